"""The answer of one verification (DESIGN §5): its shape for the OpenAPI
schema (the serializers) and `present`, which builds it from the decision and
the audit row; a test holds the two to each other. `origin`, `issuer`,
`merchant` and `credential` are filled only from an authenticated token
(`Decision.authenticated`: its signature verified, with a key not marked
compromised): unauthenticated claims are never echoed."""

import base64
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from core.instants import iso, iso_or_none
from identity.reasons import Reason
from recognition.services.verification import Outcome


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Reason.choices)
    detail = serializers.CharField()

    class Meta:
        ref_name = "Reason"


class VerifiedIssuerSerializer(serializers.Serializer):
    issuer = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()

    class Meta:
        ref_name = "VerifiedIssuer"


class VerifiedMerchantSerializer(serializers.Serializer):
    registration_number = serializers.CharField()
    legal_name = serializers.CharField()
    status = serializers.CharField(allow_null=True, help_text="null when the registry does not know the merchant")

    class Meta:
        ref_name = "VerifiedMerchant"


class VerifiedCredentialSerializer(serializers.Serializer):
    jti = serializers.CharField()
    type = serializers.CharField()
    assurance = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "VerifiedCredential"


class AppliedAgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_basis = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "AppliedAgreement"


class AuditReceiptSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The log entry's id (the decision's)")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || the entry's bytes), base64 (RFC 9162 leaf hash)")
    receipt = serializers.CharField(
        help_text="A compact JWS signed with the log key (EdDSA), header typ audit-receipt+jwt, payload "
        '{"iss": <log origin>, "id", "leaf_hash", "iat"}: the promise that this decision will be in the log '
        "within the maximum merge delay (AUDIT_MAX_MERGE_SECONDS). GET /api/v1/audit/log/key lists the keys."
    )

    class Meta:
        ref_name = "AuditReceipt"


AUTHENTICATED_ONLY = (
    "null unless the signature verified with a key not marked compromised (a compromised key's signature proves"
    " nothing; key_compromised is then among the reasons)"
)


class VerificationResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The audit record's id")
    decision = serializers.ChoiceField(choices=["accepted", "rejected"])
    accepted = serializers.BooleanField()
    reasons = ReasonSerializer(many=True, help_text="Empty exactly when accepted")
    origin = serializers.CharField(allow_null=True, help_text=f"The issuing authority's country; {AUTHENTICATED_ONLY}")
    destination = serializers.CharField()
    evaluated_at = serializers.DateTimeField()
    issuer = VerifiedIssuerSerializer(allow_null=True, help_text=AUTHENTICATED_ONLY)
    merchant = VerifiedMerchantSerializer(allow_null=True, help_text=AUTHENTICATED_ONLY)
    credential = VerifiedCredentialSerializer(allow_null=True, help_text=AUTHENTICATED_ONLY)
    agreement = AppliedAgreementSerializer(
        allow_null=True, help_text="The agreement that made the decision; null when domestic or none"
    )
    audit = AuditReceiptSerializer()

    class Meta:
        ref_name = "VerificationResult"


class BatchResponseSerializer(serializers.Serializer):
    results = VerificationResponseSerializer(many=True, help_text="One answer per item, in request order")

    class Meta:
        ref_name = "VerificationBatchResult"


def _numeric_date(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return iso(datetime.fromtimestamp(value, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _verified_parts(outcome: Outcome) -> dict[str, Any]:
    decision, subject = outcome.decision, outcome.subject
    if not decision.authenticated or subject.authority is None:
        return {"issuer": None, "merchant": None, "credential": None}
    claims, authority, merchant = decision.claims, subject.authority, subject.merchant
    claimed_merchant = claims.get("merchant") if isinstance(claims.get("merchant"), dict) else {}
    return {
        "issuer": {"issuer": authority.issuer, "name": authority.name, "country": authority.country},
        "merchant": (
            {
                "registration_number": merchant.registration_number,
                "legal_name": merchant.legal_name,
                "status": merchant.status,
            }
            if merchant
            else {
                "registration_number": str(claims.get("sub", ""))[:200],
                "legal_name": str(claimed_merchant.get("legal_name", ""))[:300],
                "status": None,
            }
        ),
        "credential": {
            "jti": str(claims.get("jti", ""))[:200],
            "type": str(claims.get("credential_type", ""))[:100],
            "assurance": str(claims.get("assurance", ""))[:20],
            "issued_at": _numeric_date(claims.get("iat")),
            "expires_at": _numeric_date(claims.get("exp")),
        },
    }


def present(outcome: Outcome) -> dict[str, Any]:
    decision, recorded = outcome.decision, outcome.record
    record = recorded.row
    agreement = decision.agreement
    return {
        "id": str(record.id),
        "decision": record.decision,
        "accepted": decision.accepted,
        "reasons": [{"code": str(code), "detail": detail} for code, detail in decision.reasons],
        # The row's origin: the issuer's country once its signature verified
        # with a key not compromised, else empty (audit_entry holds the rule);
        # a declared origin is not echoed back as a fact.
        "origin": record.origin or None,
        "destination": record.destination,
        "evaluated_at": iso(outcome.evaluated_at),
        **_verified_parts(outcome),
        "agreement": (
            {
                "id": agreement.id,
                "legal_basis": agreement.legal_basis,
                "valid_from": iso(agreement.valid_from),
                "valid_until": iso_or_none(agreement.valid_until),
            }
            if agreement
            else None
        ),
        "audit": {
            "id": str(record.id),
            "leaf_hash": base64.b64encode(recorded.entry.leaf_hash).decode("ascii"),
            "receipt": recorded.receipt,
        },
    }
