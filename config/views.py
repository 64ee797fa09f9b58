from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.scope import scope_of, what_the_role_allows
from recognition.api.errors import API_PREFIX, error_response
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


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: under /api/ the error shape of DESIGN §10; elsewhere a page
    in the admin's look saying what was refused and what the user's role
    allows, instead of a bare "403 Forbidden"."""
    if request.path.startswith(API_PREFIX):
        return error_response("forbidden", "you may not do this", 403)
    refusal = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "refusal": refusal,
        "allowed": what_the_role_allows(scope_of(request.user)),
    }
    return render(request, "403.html", context, status=403)
