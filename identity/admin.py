"""Admin of authorities, keys, merchants, credential types and issued
credentials, scoped by country (DESIGN §7; rules in accounts/scope.py).

Rows are created through the identity services and change status only through
the actions below; nothing is edited in place or deleted.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.admin_display import country_filter
from accounts.admin_mixins import CountryScopedAdmin, ServiceFormAdminMixin, manage_action
from accounts.models import Proposal
from accounts.scope import scope_of
from identity.admin_display import AuthorityColumns, CredentialColumns, KeyColumns, MerchantColumns
from identity.admin_forms import (
    AuthorityAddForm,
    AuthorityChangeForm,
    CredentialTypeAddForm,
    KeyAddForm,
    MerchantAddForm,
    MerchantChangeForm,
)
from identity.models import Authority, AuthorityKey, CredentialType, IssuedCredential, Merchant
from identity.services.authorities import (
    AUTHORITY_TRANSITIONS,
    authority_reinstate,
    authority_revoke,
    authority_suspend,
)
from identity.services.credentials import (
    CREDENTIAL_TRANSITIONS,
    credential_reinstate,
    credential_revoke,
    credential_suspend,
)
from identity.services.keys import (
    KEY_TRANSITIONS,
    key_mark_compromised,
    key_retire,
)
from identity.services.merchants import (
    MERCHANT_TRANSITIONS,
    merchant_reinstate,
    merchant_revoke,
    merchant_suspend,
)

# Authorities ------------------------------------------------------------------


@admin.register(Authority)
class AuthorityAdmin(AuthorityColumns, CountryScopedAdmin):
    country_lookup = "country"
    country_field = "country"
    # Country administrators pick foreign authorities in their agreements.
    foreign_read_only = True
    service_target = "authority"
    transitions = AUTHORITY_TRANSITIONS
    form = AuthorityChangeForm
    add_form = AuthorityAddForm
    add_fieldsets = ((None, {"fields": ("country", "name", "issuer", "max_assurance")}),)
    fields = ("country", "name", "issuer", "status", "max_assurance", "created_at", "updated_at", "keys")
    # The country and issuer are named by agreements and credentials; status moves by actions.
    readonly_fields = ("country", "issuer", "status", "created_at", "updated_at", "keys")
    list_display = ("name", "country_name", "issuer", "status", "max_assurance")
    list_filter = ("status", country_filter("country", "country"), "max_assurance")
    search_fields = ("name", "issuer")
    actions = ["suspend", "reinstate", "revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else super().get_readonly_fields(request, obj)

    def editable(self, obj: Authority | None) -> bool:
        return obj is None or obj.status != "revoked"

    @manage_action("Suspend the selected authorities", to="suspended")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, authority_suspend, "Suspended")

    @manage_action("Reinstate the selected authorities", to="active", widening=True)
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, authority_reinstate, "Reinstated")

    @manage_action("Revoke the selected authorities (final)", to="revoked")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, authority_revoke, "Revoked")


# Keys ---------------------------------------------------------------------------


@admin.register(AuthorityKey)
class AuthorityKeyAdmin(KeyColumns, CountryScopedAdmin):
    country_lookup = "authority__country"
    # A country administrator sees which keys the authorities they recognize
    # sign with, and which are compromised.
    foreign_read_only = True
    service_target = "key"
    transitions = KEY_TRANSITIONS
    add_form = KeyAddForm
    add_fieldsets = (
        (None, {"fields": ("authority", "jwk")}),
        ("Optional", {"fields": ("alg", "kid", "not_before", "not_after")}),
    )
    fields = (
        "authority",
        "kid",
        "alg",
        "public_jwk",
        "status",
        "not_before",
        "not_after",
        "retired_at",
        "compromised_at",
        "created_at",
    )
    readonly_fields = ("created_at",)
    list_display = ("kid", "authority_name", "authority_country", "alg", "key_status", "valid_from", "valid_until")
    list_filter = ("status", "alg", country_filter("authority__country", "country"))
    search_fields = ("kid", "authority__issuer", "authority__name")
    list_select_related = ("authority",)
    actions = ["retire", "mark_compromised"]

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> AuthorityKey | Proposal:
        key = super().save_form(request, form, change)
        if isinstance(key, Proposal):
            return key
        if len(form.registered) > 1:
            kids = ", ".join(registered.kid for registered in form.registered)
            messages.info(request, f"Registered {len(form.registered)} keys: {kids}.")
        return key

    @manage_action("Retire the selected keys (earlier credentials stay valid)", to="retired")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, key_retire, "Retired")

    @manage_action("Mark the selected keys compromised (every credential they signed is refused)", to="compromised")
    def mark_compromised(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, key_mark_compromised, "Marked compromised")


# Merchants ------------------------------------------------------------------------


@admin.register(Merchant)
class MerchantAdmin(MerchantColumns, CountryScopedAdmin):
    country_lookup = "authority__country"
    service_target = "merchant"
    transitions = MERCHANT_TRANSITIONS
    form = MerchantChangeForm
    add_form = MerchantAddForm
    add_fieldsets = ((None, {"fields": ("authority", "registration_number", "legal_name", "lei", "assurance")}),)
    fields = (
        "authority",
        "registration_number",
        "legal_name",
        "lei",
        "status",
        "assurance",
        "created_at",
        "updated_at",
    )
    # The registration number is the credentials' sub; status moves by actions.
    readonly_fields = ("authority", "registration_number", "status", "created_at", "updated_at")
    list_display = ("registration_number", "legal_name", "authority", "country", "status", "assurance")
    list_filter = ("status", "assurance", country_filter("authority__country", "country"))
    search_fields = ("registration_number", "legal_name", "lei")
    list_select_related = ("authority",)
    actions = ["suspend", "reinstate", "revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else super().get_readonly_fields(request, obj)

    def editable(self, obj: Merchant | None) -> bool:
        return obj is None or obj.status != "revoked"

    @manage_action("Suspend the selected merchants", to="suspended")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, merchant_suspend, "Suspended")

    @manage_action("Reinstate the selected merchants", to="active")
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, merchant_reinstate, "Reinstated")

    @manage_action("Revoke the selected merchants (final)", to="revoked")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, merchant_revoke, "Revoked")


# Credential types ---------------------------------------------------------------


@admin.register(CredentialType)
class CredentialTypeAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    """The superuser creates credential types; every role reads them. A code is
    named by issued tokens and agreements, so types are neither edited nor
    deleted."""

    add_form = CredentialTypeAddForm
    add_fieldsets = ((None, {"fields": ("code", "name", "description")}),)
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return scope_of(request.user).role is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return scope_of(request.user).role is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return scope_of(request.user).is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# Issued credentials -------------------------------------------------------------


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(CredentialColumns, CountryScopedAdmin):
    """Credentials are issued with the authority's private key by
    `issue_credential`, never in the admin; here they are read, suspended,
    reinstated and revoked."""

    country_lookup = "merchant__authority__country"
    service_target = "credential"
    # Suspension is undone by reinstating; revocation is final.
    transitions = CREDENTIAL_TRANSITIONS
    fields = (
        "jti",
        "merchant",
        "key",
        "credential_type",
        "assurance",
        "issued_at",
        "expires_at",
        "status",
        "revoked_at",
        "reason",
        "status_list",
        "status_index",
    )
    list_display = ("jti", "merchant", "type_name", "assurance", "issued", "expires", "status")
    list_filter = ("status", "credential_type", country_filter("merchant__authority__country", "country"))
    search_fields = ("jti", "merchant__registration_number", "merchant__legal_name")
    list_select_related = ("merchant", "credential_type")
    actions = ["suspend", "reinstate", "revoke"]

    @manage_action("Suspend the selected credentials", to="suspended")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, credential_suspend, "Suspended")

    @manage_action("Reinstate the selected credentials", to="valid")
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, credential_reinstate, "Reinstated")

    @manage_action("Revoke the selected credentials (final)", to="revoked")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.confirm_and_run(request, queryset, credential_revoke, "Revoked")
