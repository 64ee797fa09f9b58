"""The answer of one verification (DESIGN §5), built from the decision and
the audit row. `origin`, `issuer`, `merchant` and `credential` are filled
only from an authenticated token (`Decision.authenticated`: its signature
verified, with a key not marked compromised): unauthenticated claims are
never echoed."""

import functools
from datetime import UTC, datetime
from typing import Any

from recognition.services.verification import Outcome


@functools.lru_cache(maxsize=256)  # the same instants recur: a batch's, an agreement's window
def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _numeric_date(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return _iso(datetime.fromtimestamp(value, tz=UTC))
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
    decision, record = outcome.decision, outcome.record
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
        "evaluated_at": _iso(outcome.evaluated_at),
        **_verified_parts(outcome),
        "agreement": (
            {
                "id": agreement.id,
                "legal_basis": agreement.legal_basis,
                "valid_from": _iso(agreement.valid_from),
                "valid_until": _iso(agreement.valid_until),
            }
            if agreement
            else None
        ),
        "audit": {"seq": record.seq, "hash": record.hash},
    }
