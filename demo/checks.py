"""`check --deploy` refuses a database holding the demo data's published
secrets (registry.E002-E004): `load_demo` refuses to run without DEBUG unless
forced, and this check catches the database it was forced on."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, connections

from accounts.models import ApiKey
from demo.data import ACCOUNTS, API_KEYS, AUTHORITIES
from identity.models import AuthorityKey, KeyStatus


@checks.register(checks.Tags.security, deploy=True)
def check_no_demo_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The demo accounts, API keys and signing keys, whose secrets the README
    and fixtures/ publish, must not be usable in a deployment.

    Unlike Django's database checks this one reads the default database even
    without `--database`: finding the demo data there is its whole point. A
    database not migrated yet holds none; one that cannot be reached is a
    warning, not a crash."""
    try:
        found = _demo_secrets_in_database()
    except (DatabaseError, InterfaceError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        return [
            checks.Warning(
                f"could not look for the demo accounts and keys in the database ({reason})",
                hint="Run `manage.py check --deploy` where the database is reachable.",
                id="registry.W002",
            )
        ]
    hint = "Never load the demo into this database: use a fresh one, or delete or deactivate these rows."
    return [
        checks.Error(f"{what}: {', '.join(names)}", hint=hint, id=check_id) for check_id, what, names in found if names
    ]


def _demo_secrets_in_database() -> list[tuple[str, str, list[str]]]:
    tables = set(connections[DEFAULT_DB_ALIAS].introspection.table_names())
    User = get_user_model()
    accounts: list[str] = []
    keys: list[str] = []
    signing: list[str] = []
    if User._meta.db_table in tables:
        usernames = [account.username for account in ACCOUNTS]
        accounts = list(
            User.objects.filter(username__in=usernames, is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        )
    if ApiKey._meta.db_table in tables:
        keys = [spec.name for spec in API_KEYS if ApiKey.objects.is_valid(spec.key)]
    if AuthorityKey._meta.db_table in tables:
        demo = {(authority.issuer, key.kid) for authority in AUTHORITIES for key in authority.keys}
        usable = AuthorityKey.objects.filter(
            authority__issuer__in={issuer for issuer, _ in demo}, kid__in={kid for _, kid in demo}
        ).exclude(status=KeyStatus.COMPROMISED)
        signing = sorted(kid for issuer, kid in usable.values_list("authority__issuer", "kid") if (issuer, kid) in demo)
    return [
        ("registry.E002", "active demo accounts, whose passwords are published, exist", accounts),
        ("registry.E003", "demo API keys, whose secrets are published, are usable", keys),
        ("registry.E004", "demo signing keys, whose private halves are published, are registered", signing),
    ]
