"""System checks and the start-up check of the registry's signing key
(DESIGN §8, §10: in production a missing or unreadable REGISTRY_SIGNING_KEY
stops start-up with a clear message).

`check --deploy` reports it as registry.E001 without touching the file;
config/wsgi.py and config/asgi.py call `require_registry_signing_key()` once
the application is loaded, so a server never starts without its key.

The demo data's own check (registry.E002-E004) is in demo/checks.py.
"""

import stat
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from recognition.services.registry_keys import SETTING, key_path, load_signing_key


def require_registry_signing_key() -> None:
    """Load the signing key or raise ImproperlyConfigured naming
    REGISTRY_SIGNING_KEY. In development (DEBUG on) a missing file is
    generated here (mode 0600)."""
    load_signing_key()


@checks.register(checks.Tags.security, deploy=True)
def check_registry_signing_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    hint = (
        f"Set {SETTING} to the path of an EC P-256 or Ed25519 PEM private key readable by the server; "
        "`manage.py rotate_registry_key` creates one."
    )
    try:
        path = key_path()
        if settings.DEBUG and not path.exists():
            return []  # generated on first use in development
        load_signing_key(create=False)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint=hint, id="registry.E001")]
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return [
            checks.Warning(
                f"{SETTING} {path} is readable or writable by other users than its owner",
                hint=f"chmod 600 {path}",
                id="registry.W001",
            )
        ]
    return []
