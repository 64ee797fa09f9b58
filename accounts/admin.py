"""Admin of who may do what: country roles and API keys, the superuser's
business only (DESIGN §7)."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as UnusedLibraryApiKey

from accounts.admin_mixins import SuperuserOnly
from accounts.models import ApiKey, CountryRole
from accounts.services import api_key_create


@admin.register(CountryRole)
class CountryRoleAdmin(SuperuserOnly, admin.ModelAdmin):
    """Who administers which country: the superuser's business only."""

    list_display = ("user", "role", "country")
    list_filter = ("role", "country")
    search_fields = ("user__username",)


# The library's own APIKey model is not used (accounts.ApiKey adds the
# role): its admin, registered on import, would only confuse.
if admin.site.is_registered(UnusedLibraryApiKey):
    admin.site.unregister(UnusedLibraryApiKey)


@admin.register(ApiKey)
class ApiKeyAdmin(SuperuserOnly, APIKeyModelAdmin):
    """API keys of platforms and regulators: the superuser's business only.
    A key is created through `api_key_create`, like `create_api_key`; its
    secret is shown once, in the message after saving. Keys are revoked
    (final), never deleted: their name stays on the audit rows."""

    list_display = ("prefix", "name", "role", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("role", "revoked", "created")
    search_fields = ("name", "prefix")

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ("name", "role")
        return ("prefix", "name", "role", "created", "expiry_date", "revoked")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ()
        # The name is on every audit row of the key: it never changes.
        return ("prefix", "name", "role", "created", *(("expiry_date", "revoked") if obj.revoked else ()))

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any = None, change: bool = False) -> None:
        if change:
            super().save_model(request, obj, form, change)  # revocation or expiry only
            return
        created, secret = api_key_create(name=obj.name, role=obj.role)
        # The admin goes on with `obj` (its log entry and redirect).
        for name in ("id", "prefix", "hashed_key", "created", "revoked", "expiry_date"):
            setattr(obj, name, getattr(created, name))
        obj._state.adding, obj._state.db = False, created._state.db
        messages.warning(
            request,
            f"The API key of {created.name} ({created.role}) is: {secret} — store it now; it is not shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
