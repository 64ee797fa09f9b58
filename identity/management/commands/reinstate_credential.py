from identity.management.credential_status import CredentialStatusCommand
from identity.services.credentials import credential_reinstate


class Command(CredentialStatusCommand):
    help = "Reinstate a suspended credential the registry issued, by its jti (valid again at once)."
    change = staticmethod(credential_reinstate)
    done = "reinstated"
    reason_help = "why it is reinstated (kept in its history)"
