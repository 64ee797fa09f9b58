"""System checks and the start-up check of the registry's keys (DESIGN §6,
§8, §10: in production a missing or unreadable REGISTRY_SIGNING_KEY or
AUDIT_LOG_KEY stops start-up with a clear message).

`check --deploy` reports them as registry.E001 and registry.E005 without
touching the files; config/wsgi.py and config/asgi.py call
`require_registry_signing_key()` once the application is loaded, so a server
never starts without its keys.

The demo data's own check (registry.E002-E004) is in demo/checks.py.
"""

import stat
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from recognition.key_files import PemKeyFile
from recognition.log.keys import KEY_FILE as LOG_KEY_FILE
from recognition.log.keys import log_key
from recognition.services.registry_keys import KEY_FILE, load_signing_key


def require_registry_signing_key() -> None:
    """Load the registry's keys or raise ImproperlyConfigured naming the
    setting: REGISTRY_SIGNING_KEY (trust lists) and AUDIT_LOG_KEY (the audit
    log). In development (DEBUG on) a missing file is generated here (mode
    0600)."""
    load_signing_key()
    log_key()


def _key_file_messages(key_file: PemKeyFile, load: Any, *, error_id: str, warning_id: str) -> list[checks.CheckMessage]:
    hint = (
        f"Set {key_file.setting} to the path of an {key_file.expected} PEM private key readable by the server; "
        f"`manage.py {key_file.rotate_command}` creates one."
    )
    try:
        path = key_file.path()
        if settings.DEBUG and not path.exists():
            return []  # generated on first use in development
        load(create=False)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint=hint, id=error_id)]
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return [
            checks.Warning(
                f"{key_file.setting} {path} is readable or writable by other users than its owner",
                hint=f"chmod 600 {path}",
                id=warning_id,
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_registry_signing_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _key_file_messages(KEY_FILE, load_signing_key, error_id="registry.E001", warning_id="registry.W001")


@checks.register(checks.Tags.security, deploy=True)
def check_audit_log_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _key_file_messages(LOG_KEY_FILE, log_key, error_id="registry.E005", warning_id="registry.W003")
