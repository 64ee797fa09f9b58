"""An agreement's history for regulators (DESIGN §7): every version, oldest
first, who made it, when, why, its full terms, and which of them changed.

Only a regulator (key, or a regulator's or the superuser's session) reads it.
A country administrator gets 403 here: the admin already shows them the
history of their own country's agreements, and the API's roles are the
key roles, where an administrator's session counts as a platform.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsRegulator
from accounts.throttling import ReadThrottle
from recognition.api import filters
from recognition.api.pagination import RegistryPagination, paginated_response
from recognition.api.public import NOT_FOUND, READ_ERRORS
from recognition.api.serializers import documented_error
from recognition.models import RecognitionAgreement

# The terms of a version, in the order `changed` lists them.
TERMS = ("status", "min_assurance", "valid_from", "valid_until", "legal_basis", "reference_url", "notes")
CHANGEABLE = ("status", "credential_types", *TERMS[1:])
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}

REGULATOR_ERRORS = {
    **READ_ERRORS,
    401: documented_error("No API key (or session), or an unknown, revoked or expired key (WWW-Authenticate: Api-Key)"),
    403: documented_error(
        "The caller is not a regulator: a platform key, a country administrator or a staff user without role"
    ),
}


def _types_of(history_ids: Iterable[int]) -> dict[int, list[str]]:
    """The credential types of each version (simple-history's m2m table)."""
    through = apps.get_model("recognition", "HistoricalRecognitionAgreement_credential_types")
    types: dict[int, list[str]] = defaultdict(list)
    rows = through.objects.filter(history_id__in=list(history_ids)).order_by("credentialtype__code")
    for history_id, code in rows.values_list("history_id", "credentialtype__code"):
        types[history_id].append(code)
    return types


def _version_before(version: Any) -> Any:
    return (
        type(version)
        .objects.filter(id=version.id)
        .filter(
            Q(history_date__lt=version.history_date)
            | Q(history_date=version.history_date, history_id__lt=version.history_id)
        )
        .order_by("-history_date", "-history_id")
        .first()
    )


def describe_versions(page: list) -> list[dict[str, Any]]:
    """Each version of the page with its terms and the names of the terms
    that differ from the version before it (none for the first)."""
    previous = _version_before(page[0]) if page else None
    types = _types_of([v.history_id for v in page] + ([previous.history_id] if previous else []))
    described = []
    for version in page:
        terms = {name: getattr(version, name) for name in TERMS}
        terms["credential_types"] = types[version.history_id]
        before = (
            None
            if previous is None
            else {**{name: getattr(previous, name) for name in TERMS}, "credential_types": types[previous.history_id]}
        )
        described.append(
            {
                "version": version.history_id,
                "history_date": version.history_date,
                "history_type": HISTORY_TYPES.get(version.history_type, version.history_type),
                "user": version.history_user.get_username() if version.history_user else None,
                "change_reason": version.history_change_reason,
                **terms,
                "changed": [] if before is None else [name for name in CHANGEABLE if terms[name] != before[name]],
            }
        )
        previous = version
    return described


def agreement_versions(agreement_id: int) -> QuerySet:
    if not RecognitionAgreement.objects.filter(pk=agreement_id).exists():
        raise NotFound(f"no agreement with id {agreement_id}")
    return (
        RecognitionAgreement.history.filter(id=agreement_id)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )


class AgreementVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        help_text="The version's history_id: an audit row's agreement_version names one of these"
    )
    history_date = serializers.DateTimeField(help_text="When the version was made")
    history_type = serializers.ChoiceField(choices=["created", "changed"])
    user = serializers.CharField(allow_null=True, help_text="The username of who made it; null for a command or job")
    change_reason = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    credential_types = serializers.ListField(child=serializers.CharField())
    min_assurance = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    legal_basis = serializers.CharField()
    reference_url = serializers.CharField()
    notes = serializers.CharField()
    changed = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANGEABLE),
        help_text="The terms that differ from the previous version (empty for the first)",
    )

    class Meta:
        ref_name = "AgreementVersion"


class AgreementHistoryApi(APIView):
    permission_classes = [IsRegulator]
    throttle_classes = [ReadThrottle]
    pagination_class = RegistryPagination

    @extend_schema(
        operation_id="agreements_history",
        tags=["agreements"],
        parameters=[filters.PageParams],
        responses={200: AgreementVersionSerializer(many=True), **REGULATOR_ERRORS, **NOT_FOUND},
        summary="Every version of an agreement (regulators)",
        description=(
            "Oldest first: who made each version, when and why, the full terms of that version, and `changed`, "
            "the terms that differ from the version before. Regulator key, or a regulator's or the superuser's "
            "session."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        filters.PageParams.parse(request)
        return paginated_response(
            request=request,
            view=self,
            queryset=agreement_versions(pk),
            serializer_class=AgreementVersionSerializer,
            prepare=describe_versions,
        )
