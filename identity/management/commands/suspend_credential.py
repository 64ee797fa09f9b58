from identity.management.credential_status import CredentialStatusCommand
from identity.services.credentials import credential_suspend


class Command(CredentialStatusCommand):
    help = "Suspend a credential the registry issued, by its jti (refused as credential_suspended until reinstated)."
    change = staticmethod(credential_suspend)
    done = "suspended"
    reason_help = "why it is suspended (kept in its history)"
