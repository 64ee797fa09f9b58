"""Who may call what (DESIGN §7). DRF's default is deny; each view names one
of these."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from recognition.models import ApiKey, KeyRole, Role


def _session_role(request: Request) -> str | None:
    user = request.user
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return KeyRole.REGULATOR
    role = getattr(getattr(user, "country_role", None), "role", None)
    return KeyRole.REGULATOR if role == Role.REGULATOR else (KeyRole.PLATFORM if role else None)


def caller_role(request: Request) -> str | None:
    if isinstance(request.auth, ApiKey):
        return request.auth.role
    return _session_role(request)


def caller_name(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        return request.auth.name
    return f"user:{request.user.get_username()}"


class IsPlatformOrRegulator(BasePermission):
    message = "this endpoint needs a platform or regulator API key"

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_role(request) in (KeyRole.PLATFORM, KeyRole.REGULATOR)


class IsRegulator(BasePermission):
    message = "this endpoint needs a regulator API key"

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_role(request) == KeyRole.REGULATOR
