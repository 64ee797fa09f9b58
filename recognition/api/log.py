"""The transparency log over HTTP (DESIGN §6), under /api/v1/audit/log/: the
signed checkpoint and the log's keys in the C2SP text formats, consistency
and inclusion proofs as JSON (hashes in base64, as in checkpoints), and the
C2SP tlog-tiles hash tiles and entry bundles.

Public, but for the entries themselves: an entry's proof is for regulators
and for the API key that made the decision; entry bundles for regulators.
The public endpoints attempt no authentication, like the trust lists
(recognition/api/trust.py): an Authorization header meant for the
verification API, right or wrong, changes nothing, and nothing is counted
against a key. Errors are JSON whatever the endpoint's own media type.
"""

import base64
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.models import ApiKey, KeyRole
from accounts.permissions import caller_role
from accounts.throttling import ReadThrottle
from recognition.api.filters import QueryParams
from recognition.api.serializers import documented_error
from recognition.log import proofs, tree
from recognition.log.keys import published_vkeys
from recognition.models import Verification

TEXT = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"
IMMUTABLE = "public, max-age=31536000, immutable"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class TextRenderer(BaseRenderer):
    media_type, format, charset = "text/plain", "txt", "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode("utf-8") if isinstance(data, str) else JSONRenderer().render(data)


class OctetsRenderer(BaseRenderer):
    media_type, format, charset = OCTETS, "bin", None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


def _answer(data: Any, *, cache: str, media_type: str | None = None) -> Response:
    response = Response(data, content_type=media_type)
    response["Cache-Control"] = cache
    return response


class LogApi(APIView):
    """Public: no authentication attempted, so no key is counted either."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON whatever the endpoint's own media type (a 400 of
        # the checkpoint is not text/plain, a 403 of a tile not octets).
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        if isinstance(exc, proofs.LogRefusal):
            response = Response({"error": exc.code, "detail": exc.detail}, status=exc.status)
            if exc.retry_after is not None:
                response["Retry-After"] = str(exc.retry_after)
            return response
        return super().handle_exception(exc)


def _keyed_authenticators() -> list[Any]:
    return [authentication() for authentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES]


class KeyedLogApi(LogApi):
    """For regulators (or the key that made a decision): API key or staff
    session, one read budget a key."""

    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    throttle_classes = [ReadThrottle]


def _authenticated(request: Request) -> bool:
    return request.auth is not None or bool(request.user and request.user.is_authenticated)


class HasKeyOrSession(BasePermission):
    """Any API key or staff session (what it may see is decided per entry);
    none is a 401."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return _authenticated(request)


PUBLIC_ERRORS = {
    400: documented_error("A parameter is unknown, repeated or out of range (the detail names it)"),
    503: documented_error("The database cannot be reached, or the log has signed no checkpoint yet"),
}
KEYED_ERRORS = {
    **PUBLIC_ERRORS,
    401: documented_error("No API key (or session), or an unknown, revoked or expired key"),
    429: documented_error("Throttled; Retry-After says when to come back"),
}


def json_errors(errors: dict[int, OpenApiResponse]) -> dict[tuple[int, str], OpenApiResponse]:
    """Errors of an endpoint whose own answer is not JSON: they are."""
    return {(status, JSONRenderer.media_type): response for status, response in errors.items()}


class CheckpointApi(LogApi):
    renderer_classes = [TextRenderer]

    @extend_schema(
        operation_id="audit_log_checkpoint",
        tags=["audit log"],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="A C2SP signed checkpoint"),
            **json_errors(
                {
                    **PUBLIC_ERRORS,
                    503: documented_error(
                        "The database cannot be reached, or the log has signed no checkpoint yet, or "
                        "`no_cosigned_checkpoint`: no checkpoint has reached AUDIT_WITNESS_QUORUM cosignatures yet"
                    ),
                }
            ),
        },
        summary="The latest signed checkpoint (with a witness quorum, the latest that reached it)",
        description=(
            "C2SP tlog-checkpoint: `<origin>\\n<size>\\n<base64 root>\\n`, an empty line, then the log's signed-note "
            "signature line (Ed25519, key name = the origin), then the cosignature/v1 lines of the active witnesses "
            "that cosigned it (C2SP tlog-cosignature). Verify it with a key of `GET key`, and the witnesses' keys of "
            "`GET witnesses`. With AUDIT_WITNESS_QUORUM above 0 it is the latest checkpoint cosigned by that many "
            "distinct active witnesses, and proofs without a size are for it."
        ),
    )
    def get(self, request: Request) -> Response:
        QueryParams.parse(request)
        return _answer(proofs.served_checkpoint()[1], cache="public, max-age=1", media_type=TEXT)


class LogKeyApi(LogApi):
    renderer_classes = [TextRenderer]

    @extend_schema(
        operation_id="audit_log_key",
        tags=["audit log"],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Signed-note verifier keys"),
            **json_errors({**PUBLIC_ERRORS, 503: documented_error("The database cannot be reached")}),
        },
        summary="The log's verifier keys",
        description=(
            "One signed-note vkey a line, `<name>+<hex key ID>+<base64(0x01 || Ed25519 public key)>`: the key the "
            "log signs with now first, then retired ones (older checkpoints are signed with them)."
        ),
    )
    def get(self, request: Request) -> Response:
        QueryParams.parse(request)
        return _answer("".join(f"{line}\n" for line in published_vkeys()), cache="public, max-age=60", media_type=TEXT)


class ConsistencyQuery(QueryParams):
    first = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The older tree size")
    second = serializers.IntegerField(min_value=1, max_value=2**62, help_text="The newer tree size")


class ConsistencySerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="RFC 9162 §2.1.4 hashes, base64")

    class Meta:
        ref_name = "ConsistencyProof"


class ConsistencyApi(LogApi):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="audit_log_consistency",
        tags=["audit log"],
        parameters=[ConsistencyQuery],
        responses={200: ConsistencySerializer, **PUBLIC_ERRORS},
        summary="Proof that the log only grew between two sizes",
        description="For 0 < first <= second <= the latest checkpoint's size; 400 otherwise.",
    )
    def get(self, request: Request) -> Response:
        params = ConsistencyQuery.parse(request)
        first, second = params["first"], params["second"]
        proof = proofs.consistency(first, second)
        return _answer({"first": first, "second": second, "proof": [b64(h) for h in proof]}, cache="public, max-age=60")


class ProofQuery(QueryParams):
    size = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text="A checkpointed size; default the latest"
    )


class InclusionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    seq = serializers.IntegerField(help_text="The entry's leaf index")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || entry), base64")
    entry = serializers.CharField(help_text="The entry's exact bytes as a string (UTF-8 canonical JSON)")
    size = serializers.IntegerField(help_text="The size of the tree the proof is for")
    inclusion = serializers.ListField(child=serializers.CharField(), help_text="RFC 9162 §2.1.3 hashes, base64")
    checkpoint = serializers.CharField(help_text="The signed checkpoint of that size")

    class Meta:
        ref_name = "InclusionProof"


def may_see(request: Request, entry_id: Any) -> bool:
    """Regulators see every entry; an API key, the decisions it made."""
    if caller_role(request) == KeyRole.REGULATOR:
        return True
    key = request.auth if isinstance(request.auth, ApiKey) else None
    return key is not None and Verification.objects.filter(id=entry_id, client=key.name).exists()


class EntryProofApi(KeyedLogApi):
    permission_classes = [HasKeyOrSession]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="audit_log_entry_proof",
        tags=["audit log"],
        parameters=[ProofQuery],
        responses={
            200: InclusionSerializer,
            **KEYED_ERRORS,
            404: documented_error("No such entry (or none this API key may see)"),
            409: documented_error("not_yet_integrated: the entry is in no signed checkpoint yet; see Retry-After"),
        },
        summary="An entry and its inclusion proof (regulators, or the key that made the decision)",
    )
    def get(self, request: Request, entry_id: Any) -> Response:
        params = ProofQuery.parse(request)
        if not may_see(request, entry_id):
            raise proofs.LogRefusal(404, "not_found", f"no log entry {entry_id} this caller may see")
        found = proofs.inclusion(entry_id, params.get("size"))
        body = {
            "id": str(found.entry.id),
            "seq": found.entry.seq,
            "leaf_hash": b64(bytes(found.entry.leaf_hash)),
            "entry": bytes(found.entry.body).decode("utf-8"),
            "size": found.checkpoint.size,
            "inclusion": [b64(h) for h in found.proof],
            "checkpoint": found.checkpoint.note,
        }
        return _answer(body, cache="private, no-store")


TILE_PATH = OpenApiParameter(
    "path", str, OpenApiParameter.PATH, description="C2SP tile path: `<L>/<N>[.p/<W>]`, N as x001/x234/067"
)


class TileApi(LogApi):
    """Hash tiles are public; entry bundles (tile/entries/...) for
    regulators, who alone are authenticated (and counted) here."""

    renderer_classes = [OctetsRenderer]

    def _entry_bundle(self) -> bool:
        # Without a request (the schema's generation) it documents the keys.
        path = getattr(self, "kwargs", {}).get("path")
        return path is None or str(path).startswith(f"{proofs.ENTRIES}/")

    def get_authenticators(self) -> list[Any]:
        return _keyed_authenticators() if self._entry_bundle() else []

    def get_throttles(self) -> list[Any]:
        return [ReadThrottle()] if self._entry_bundle() else []

    @extend_schema(
        operation_id="audit_log_tile",
        tags=["audit log"],
        parameters=[TILE_PATH],
        responses={
            (200, OCTETS): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Concatenated 32-byte hashes; for tile/entries/<N>, each entry's bytes behind a "
                "big-endian uint16 length",
            ),
            **json_errors(
                {
                    **PUBLIC_ERRORS,
                    401: documented_error(
                        "tile/entries/...: no API key (or session), or an unknown, revoked or expired key"
                    ),
                    403: documented_error("tile/entries/...: entry bundles are for regulators"),
                    404: documented_error("No such tile in the latest checkpoint's tree, or not a C2SP tile path"),
                    429: documented_error("tile/entries/...: throttled; Retry-After says when to come back"),
                }
            ),
        },
        summary="A C2SP hash tile (height 8); entry bundles at tile/entries/<N> (regulators)",
    )
    def get(self, request: Request, path: str) -> Response:
        if self._entry_bundle() and caller_role(request) != KeyRole.REGULATOR:
            if not _authenticated(request):
                raise exceptions.NotAuthenticated()
            raise exceptions.PermissionDenied("entry bundles are for regulators")
        QueryParams.parse(request)
        try:
            level, index, width = tree.parse_tile_path(f"tile/{path}")
        except ValueError as exc:
            raise proofs.LogRefusal(404, "not_found", f"not a tile path: {exc}") from None
        if level == proofs.ENTRIES:
            return _answer(proofs.data_tile(index, width), cache="private, max-age=31536000, immutable")
        return _answer(proofs.hash_tile(level, index, width), cache=IMMUTABLE)
