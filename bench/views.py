"""The benchmark's yardstick views, routed only by bench.urls.

HelloApi is the framework's cost: the same middleware (settings), and the
same authentication, permission, throttle, parser, renderer and content
negotiation as VerificationCreateApi, and nothing else.

VerificationWithoutAuditApi is "verify": the real endpoint's code path
(request validation, parse, registry read, decision, the audit entry with
its bytes and leaf hash, the answer) minus the recording: no INSERT, no
commit, no receipt signature (the answer's `receipt` is empty).
"""

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import caller_name
from recognition.api.answers import present
from recognition.api.verifications import VerificationCreateApi, verification_request
from recognition.services.audit import Recorded, build
from recognition.services.verification import audit_entry, decide_all, outcomes_of


class HelloApi(APIView):
    authentication_classes = VerificationCreateApi.authentication_classes
    permission_classes = VerificationCreateApi.permission_classes
    throttle_classes = VerificationCreateApi.throttle_classes
    parser_classes = VerificationCreateApi.parser_classes
    renderer_classes = VerificationCreateApi.renderer_classes
    content_negotiation_class = VerificationCreateApi.content_negotiation_class

    def post(self, request: Request) -> Response:
        return Response({"hello": "world"})


class VerificationWithoutAuditApi(VerificationCreateApi):
    def post(self, request: Request) -> Response:
        wanted = verification_request(request)
        now = timezone.now()
        decided = decide_all([wanted], now=now)
        # The rows and the entry as record_decisions builds them (the answer
        # shows the id and the leaf hash), never written and never signed.
        rows, entries = build([audit_entry(caller_name(request), decided[0])], at=now)
        record = Recorded(row=rows[0], entry=entries[0], receipt="")
        (outcome,) = outcomes_of(decided, [record], now)
        return Response(present(outcome))
