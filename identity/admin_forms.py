"""The add and change forms of the identity admin: each submission is one
service call (accounts.admin_mixins.ServiceForm); the forms that change trust
ask for a reason."""

import json

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError

from accounts.admin_actions import reason_field
from accounts.admin_mixins import ServiceForm
from accounts.models import Proposal
from identity.jose.algorithms import Alg
from identity.models import Authority, AuthorityKey, CredentialType, Merchant
from identity.services.authorities import authority_create, authority_update
from identity.services.credentials import credential_type_create
from identity.services.keys import key_register, key_register_many
from identity.services.merchants import merchant_register, merchant_update


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
    reason = reason_field()

    class Meta:
        model = Authority
        fields = ["name", "max_assurance"]

    def submit(self) -> Authority:
        self.require_owned(self.instance.country)
        data = self.cleaned_data
        return authority_update(
            authority=self.instance,
            name=data["name"],
            max_assurance=data["max_assurance"],
            user=self.acting_user,
            reason=data["reason"],
        )


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
    reason = reason_field()

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

    def submit(self) -> AuthorityKey | Proposal:
        data = self.cleaned_data
        authority = data["authority"]
        self.require_owned(authority.country)
        if "keys" in data["jwk"]:
            options = [name for name in ("alg", "kid", "not_before", "not_after") if data.get(name)]
            if options:
                raise ValidationError(
                    f"{', '.join(options)} apply to a single JWK; put alg and kid inside each key of the JWKS"
                )
            registered = key_register_many(
                authority=authority, jwks=data["jwk"], user=self.acting_user, reason=data["reason"]
            )
        else:
            registered = key_register(
                authority=authority,
                jwk=data["jwk"],
                alg=data["alg"] or None,
                kid=data["kid"] or None,
                not_before=data["not_before"],
                not_after=data["not_after"],
                user=self.acting_user,
                reason=data["reason"],
            )
        if isinstance(registered, Proposal):  # a country administrator's keys await approval
            return registered
        self.registered = registered if isinstance(registered, list) else [registered]
        return self.registered[0]


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


class CredentialTypeAddForm(ServiceForm):
    class Meta:
        model = CredentialType
        fields = ["code", "name", "description"]

    def submit(self) -> CredentialType:
        data = self.cleaned_data
        return credential_type_create(
            code=data["code"], name=data["name"], description=data["description"], user=self.acting_user
        )
