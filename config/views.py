from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from recognition.log.proofs import oldest_unpublished


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness, database reachability and the audit log's merge delay
    (DESIGN §6, §7): 503 with "audit_log": "behind" while an entry older than
    AUDIT_MAX_MERGE_SECONDS is in no signed checkpoint."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        oldest = oldest_unpublished()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    waited = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    if waited > settings.AUDIT_LOG["MAX_MERGE_SECONDS"]:
        body = {"status": "unavailable", "database": "ok", "audit_log": "behind", "oldest_unpublished_seconds": waited}
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "audit_log": "ok"})
