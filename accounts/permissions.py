"""Who may call what (DESIGN §7). DRF's default is deny; each view names one
of these.

An API key has the role `platform` or `regulator`. Staff users may also use
the browsable API with their session: a regulator (or the superuser) acts at
regulator level, a country administrator at platform level, and a staff user
with no role, or any other user, at no level at all (403).
"""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import ApiKey, KeyRole, Role
from accounts.scope import SUPERUSER, role_of

_SESSION_LEVELS = {
    SUPERUSER: KeyRole.REGULATOR,
    Role.REGULATOR: KeyRole.REGULATOR,
    Role.COUNTRY_ADMIN: KeyRole.PLATFORM,
}


def caller_role(request: Request) -> str | None:
    if isinstance(request.auth, ApiKey):
        return request.auth.role
    user = request.user
    if not (user and user.is_authenticated):
        return None
    return _SESSION_LEVELS.get(role_of(user))


def caller_name(request: Request) -> str:
    """Who is written on the audit row: the key's name, or `user:<username>`."""
    if isinstance(request.auth, ApiKey):
        return request.auth.name
    return f"user:{request.user.get_username()}"


def caller_ident(request: Request) -> str | None:
    """A stable identity for throttling: one budget per key or per user."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    user = request.user
    return f"user:{user.pk}" if user and user.is_authenticated else None


class IsPlatformOrRegulator(BasePermission):
    message = "this endpoint needs a platform or regulator API key (or a staff session with a role)"

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_role(request) in (KeyRole.PLATFORM, KeyRole.REGULATOR)


class IsRegulator(BasePermission):
    message = "this endpoint needs a regulator API key (or a regulator's staff session)"

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_role(request) == KeyRole.REGULATOR
