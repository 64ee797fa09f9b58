"""The authority's page, as the recognition app completes it: beside its
keys, the agreements that recognize it, with links (DESIGN §3). identity
knows no agreement, so the page is re-registered here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString

from accounts.scope import Scope
from identity.admin import AuthorityAdmin
from identity.models import Authority
from recognition.admin_lists import recognitions_table
from recognition.models import RecognitionAgreement


class AuthorityWithRecognitionsAdmin(AuthorityAdmin):
    fields = (*AuthorityAdmin.fields, "recognitions")
    readonly_fields = (*AuthorityAdmin.readonly_fields, "recognitions")

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        authority = super().get_object(request, object_id, from_field)
        if authority is not None:
            authority.viewer_scope = self.scope(request)  # which agreements the page may list
        return authority

    @admin.display(description="recognized by")
    def recognitions(self, authority: Authority) -> SafeString | str:
        scope: Scope = getattr(authority, "viewer_scope", Scope(role=None))
        agreements = RecognitionAgreement.objects.all()
        if not scope.reads_everything:
            # Other countries' drafts are theirs (DESIGN §10).
            agreements = agreements.visible_to_country(scope.country) if scope.country else agreements.none()
        return recognitions_table(authority, agreements)


admin.site.unregister(Authority)
admin.site.register(Authority, AuthorityWithRecognitionsAdmin)
