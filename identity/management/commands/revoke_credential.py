from identity.management.credential_status import CredentialStatusCommand
from identity.services.credentials import credential_revoke


class Command(CredentialStatusCommand):
    help = "Revoke a credential the registry issued, by its jti."
    change = staticmethod(credential_revoke)
    done = "revoked"
    reason_help = "why it is revoked (kept with the credential)"
