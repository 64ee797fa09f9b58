"""What the identity admins show beside the rows' own fields: keys with
their state (a compromised one stands out), countries by name, instants with
seconds and zone (accounts/admin_display.py)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.admin_display import country_column, display_instant
from identity.models import Authority, AuthorityKey, IssuedCredential, KeyStatus


def key_status_html(key: AuthorityKey) -> SafeString | str:
    """A compromised key stands out: every credential it signed is refused."""
    if key.status == KeyStatus.COMPROMISED:
        return format_html(
            '<strong class="registry-alert">Compromised</strong> since {}', display_instant(key.compromised_at)
        )
    if key.status == KeyStatus.RETIRED:
        return format_html("Retired since {}", display_instant(key.retired_at))
    return key.get_status_display()


def keys_table(authority: Authority) -> SafeString | str:
    keys = list(authority.keys.order_by("created_at", "id"))
    if not keys:
        return "No key registered: no credential of this authority can be verified."
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:identity_authoritykey_change", args=[key.pk]),
                key.kid,
                key.alg,
                key_status_html(key),
                display_instant(key.not_before),
                display_instant(key.not_after, "open"),
            )
            for key in keys
        ),
    )
    return format_html(
        '<table class="registry-table"><thead><tr><th>kid</th><th>alg</th><th>status</th><th>not before</th>'
        "<th>not after</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class AuthorityColumns:
    country_name = country_column("country")

    @admin.display(description="keys")
    def keys(self, authority: Authority) -> SafeString | str:
        return keys_table(authority)


class MerchantColumns:
    country = country_column("authority__country")


class KeyColumns:
    @admin.display(description="authority", ordering="authority__name")
    def authority_name(self, key: AuthorityKey) -> str:
        return key.authority.name

    authority_country = country_column("authority__country")

    @admin.display(description="status", ordering="status")
    def key_status(self, key: AuthorityKey) -> SafeString | str:
        return key_status_html(key)

    @admin.display(description="not before", ordering="not_before")
    def valid_from(self, key: AuthorityKey) -> SafeString | str:
        return display_instant(key.not_before)

    @admin.display(description="not after", ordering="not_after")
    def valid_until(self, key: AuthorityKey) -> SafeString | str:
        return display_instant(key.not_after, "open")


class CredentialColumns:
    @admin.display(description="credential type", ordering="credential_type__name")
    def type_name(self, credential: IssuedCredential) -> str:
        return credential.credential_type.name

    @admin.display(description="issued at", ordering="issued_at")
    def issued(self, credential: IssuedCredential) -> SafeString | str:
        return display_instant(credential.issued_at)

    @admin.display(description="expires at", ordering="expires_at")
    def expires(self, credential: IssuedCredential) -> SafeString | str:
        return display_instant(credential.expires_at)
