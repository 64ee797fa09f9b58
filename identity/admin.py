"""Admin of authorities, keys, merchants, credential types and issued
credentials, scoped by country (DESIGN §7; rules in accounts/scope.py).

Rows are created through the identity services and change status only through
the actions below; nothing is edited in place or deleted.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_display import country_filter
from accounts.admin_mixins import CountryScopedAdmin, ServiceForm, ServiceFormAdminMixin, manage_action
from accounts.scope import scope_of
from identity.admin_display import AuthorityColumns, CredentialColumns, KeyColumns, MerchantColumns
from identity.jose.algorithms import Alg
from identity.models import Authority, AuthorityKey, CredentialType, IssuedCredential, Merchant
from identity.services.authorities import (
    authority_create,
    authority_reinstate,
    authority_revoke,
    authority_suspend,
    authority_update,
)
from identity.services.credentials import credential_revoke, credential_type_create
from identity.services.keys import key_mark_compromised, key_register, key_register_many, key_retire
from identity.services.merchants import (
    merchant_register,
    merchant_reinstate,
    merchant_revoke,
    merchant_suspend,
    merchant_update,
)

# Authorities ------------------------------------------------------------------


class AuthorityAddForm(ServiceForm):
    class Meta:
        model = Authority
        fields = ["country", "name", "issuer", "max_assurance"]

    def submit(self) -> Authority:
        data = self.cleaned_data
        self.require_owned(data["country"])
        return authority_create(
            country=data["country"],
            name=data["name"],
            issuer=data["issuer"],
            max_assurance=data["max_assurance"],
            user=self.acting_user,
        )


class AuthorityChangeForm(ServiceForm):
    class Meta:
        model = Authority
        fields = ["name", "max_assurance"]

    def submit(self) -> Authority:
        self.require_owned(self.instance.country)
        data = self.cleaned_data
        return authority_update(
            authority=self.instance, name=data["name"], max_assurance=data["max_assurance"], user=self.acting_user
        )


@admin.register(Authority)
class AuthorityAdmin(AuthorityColumns, CountryScopedAdmin):
    country_lookup = "country"
    country_field = "country"
    # Country administrators pick foreign authorities in their agreements.
    foreign_read_only = True
    service_target = "authority"
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

    @manage_action("Suspend the selected authorities")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, authority_suspend, "Suspended")

    @manage_action("Reinstate the selected authorities")
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, authority_reinstate, "Reinstated")

    @manage_action("Revoke the selected authorities (final)")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, authority_revoke, "Revoked")


# Keys ---------------------------------------------------------------------------


class KeyAddForm(ServiceForm):
    """Paste a public JWK or a JWKS; key intake (identity.jose) decides."""

    jwk = forms.CharField(
        label="Public JWK or JWKS",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90, "spellcheck": "false"}),
        help_text='A JSON object with "kty", or a JWKS {"keys": [...]}. Public members only.',
    )
    alg = forms.ChoiceField(choices=[("", "As the JWK says, or inferred"), *Alg.choices], required=False)
    kid = forms.CharField(
        max_length=200, required=False, help_text="Default: the JWK's kid, else its RFC 7638 thumbprint."
    )
    not_before = forms.SplitDateTimeField(
        required=False, widget=AdminSplitDateTime, help_text="Default: now. Credentials issued earlier are refused."
    )
    not_after = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime)

    class Meta:
        model = AuthorityKey
        fields = ["authority"]

    def clean_jwk(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["jwk"])
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        except RecursionError:
            raise ValidationError("not valid JSON: nested too deeply") from None
        if not isinstance(value, dict) or not ("keys" in value or "kty" in value):
            raise ValidationError('expected a JWK (an object with "kty") or a JWKS (an object with "keys")')
        return value

    def submit(self) -> AuthorityKey:
        data = self.cleaned_data
        authority = data["authority"]
        self.require_owned(authority.country)
        if "keys" in data["jwk"]:
            options = [name for name in ("alg", "kid", "not_before", "not_after") if data.get(name)]
            if options:
                raise ValidationError(
                    f"{', '.join(options)} apply to a single JWK; put alg and kid inside each key of the JWKS"
                )
            self.registered = key_register_many(authority=authority, jwks=data["jwk"], user=self.acting_user)
        else:
            key = key_register(
                authority=authority,
                jwk=data["jwk"],
                alg=data["alg"] or None,
                kid=data["kid"] or None,
                not_before=data["not_before"],
                not_after=data["not_after"],
                user=self.acting_user,
            )
            self.registered = [key]
        return self.registered[0]


@admin.register(AuthorityKey)
class AuthorityKeyAdmin(KeyColumns, CountryScopedAdmin):
    country_lookup = "authority__country"
    # A country administrator sees which keys the authorities they recognize
    # sign with, and which are compromised.
    foreign_read_only = True
    service_target = "key"
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

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> AuthorityKey:
        key = super().save_form(request, form, change)
        if len(form.registered) > 1:
            kids = ", ".join(registered.kid for registered in form.registered)
            messages.info(request, f"Registered {len(form.registered)} keys: {kids}.")
        return key

    @manage_action("Retire the selected keys (earlier credentials stay valid)")
    def retire(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, key_retire, "Retired")

    @manage_action("Mark the selected keys compromised (every credential they signed is refused)")
    def mark_compromised(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, key_mark_compromised, "Marked compromised")


# Merchants ------------------------------------------------------------------------


class MerchantAddForm(ServiceForm):
    class Meta:
        model = Merchant
        fields = ["authority", "registration_number", "legal_name", "lei", "assurance"]

    def submit(self) -> Merchant:
        data = self.cleaned_data
        self.require_owned(data["authority"].country)
        return merchant_register(
            authority=data["authority"],
            registration_number=data["registration_number"],
            legal_name=data["legal_name"],
            lei=data["lei"],
            assurance=data["assurance"],
            user=self.acting_user,
        )


class MerchantChangeForm(ServiceForm):
    class Meta:
        model = Merchant
        fields = ["legal_name", "lei", "assurance"]

    def submit(self) -> Merchant:
        self.require_owned(self.instance.authority.country)
        data = self.cleaned_data
        return merchant_update(
            merchant=self.instance,
            legal_name=data["legal_name"],
            lei=data["lei"],
            assurance=data["assurance"],
            user=self.acting_user,
        )


@admin.register(Merchant)
class MerchantAdmin(MerchantColumns, CountryScopedAdmin):
    country_lookup = "authority__country"
    service_target = "merchant"
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

    @manage_action("Suspend the selected merchants")
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, merchant_suspend, "Suspended")

    @manage_action("Reinstate the selected merchants")
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, merchant_reinstate, "Reinstated")

    @manage_action("Revoke the selected merchants (final)")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.run_service(request, queryset, merchant_revoke, "Revoked")


# Credential types ---------------------------------------------------------------


class CredentialTypeAddForm(ServiceForm):
    class Meta:
        model = CredentialType
        fields = ["code", "name", "description"]

    def submit(self) -> CredentialType:
        data = self.cleaned_data
        return credential_type_create(
            code=data["code"], name=data["name"], description=data["description"], user=self.acting_user
        )


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


class RevokeActionForm(ActionForm):
    reason = forms.CharField(max_length=500, required=False, label="Reason (for revocation)")


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(CredentialColumns, CountryScopedAdmin):
    """Credentials are issued with the authority's private key by
    `issue_credential`, never in the admin; here they are read and revoked."""

    country_lookup = "merchant__authority__country"
    service_target = "credential"
    action_form = RevokeActionForm
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
    )
    list_display = ("jti", "merchant", "type_name", "assurance", "issued", "expires", "status")
    list_filter = ("status", "credential_type", country_filter("merchant__authority__country", "country"))
    search_fields = ("jti", "merchant__registration_number", "merchant__legal_name")
    list_select_related = ("merchant", "credential_type")
    actions = ["revoke"]

    @manage_action("Revoke the selected credentials")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = request.POST.get("reason", "").strip()
        self.run_service(request, queryset, credential_revoke, "Revoked", reason=reason)
