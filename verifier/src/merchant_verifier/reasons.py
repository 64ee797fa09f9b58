"""The reason codes of a decision (DESIGN §5): one list, the registry's API
and this package both read it. The values are the public codes.

`Reason` holds every code; `API_REASONS` those the registry's API gives, in
the same order; `PACKAGE_ONLY` the two a verifier at the edge gives and the
API never does, because the registry reads its own database: a list past its
`exp` that could not be refreshed (`lists_expired`) and a list that could not
be fetched or did not verify (`lists_unavailable`).
"""

from enum import StrEnum


class Reason(StrEnum):
    label: str

    def __new__(cls, code: str, label: str) -> "Reason":
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    TOKEN_TOO_LARGE = "token_too_large", "The token is longer than the configured limit"
    MALFORMED_TOKEN = "malformed_token", "Not a well-formed compact JWS of JSON objects"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm", "alg missing or not allowed"
    WRONG_TOKEN_TYPE = "wrong_token_type", "typ missing or not merchant-credential+jwt"
    UNTRUSTED_HEADER = "untrusted_header", "The header names a key source or an extension"
    MISSING_KID = "missing_kid", "No kid"
    UNKNOWN_ISSUER = "unknown_issuer", "iss missing or unknown"
    UNKNOWN_KEY = "unknown_key", "The authority has no key with that kid"
    ALGORITHM_MISMATCH = "algorithm_mismatch", "alg differs from the registered key's"
    INVALID_SIGNATURE = "invalid_signature", "The signature does not verify"
    INVALID_CLAIM = "invalid_claim", "A required claim is absent, of the wrong type or inconsistent"
    EXPIRED = "expired", "exp is in the past"
    NOT_YET_VALID = "not_yet_valid", "nbf or iat is in the future"
    KEY_COMPROMISED = "key_compromised", "The key is marked compromised"
    KEY_NOT_VALID_AT_ISSUANCE = "key_not_valid_at_issuance", "iat is outside the key's validity"
    ISSUER_SUSPENDED = "issuer_suspended", "The authority is suspended"
    ISSUER_REVOKED = "issuer_revoked", "The authority is revoked"
    UNKNOWN_MERCHANT = "unknown_merchant", "No merchant with that sub under this authority"
    MERCHANT_SUSPENDED = "merchant_suspended", "The merchant is suspended"
    MERCHANT_REVOKED = "merchant_revoked", "The merchant is revoked"
    CREDENTIAL_REVOKED = "credential_revoked", "The credential is revoked"
    CREDENTIAL_SUSPENDED = "credential_suspended", "The credential is suspended"
    ASSURANCE_EXCEEDS_ACCREDITATION = "assurance_exceeds_accreditation", "Assurance above the authority's accreditation"
    ORIGIN_MISMATCH = "origin_mismatch", "origin is not the authority's country"
    NO_AGREEMENT = "no_agreement", "No agreement links the destination to this authority"
    AGREEMENT_NOT_IN_FORCE = "agreement_not_in_force", "No agreement is active and inside its window now"
    CREDENTIAL_TYPE_NOT_RECOGNIZED = "credential_type_not_recognized", "The agreement does not cover this type"
    ASSURANCE_BELOW_MINIMUM = "assurance_below_minimum", "The agreement asks for a higher assurance"
    LISTS_EXPIRED = "lists_expired", "A list the verifier needs is past its exp and could not be refreshed"
    LISTS_UNAVAILABLE = "lists_unavailable", "A list the verifier needs could not be fetched or did not verify"


# Given by a verifier at the edge only; never by the registry's API.
PACKAGE_ONLY = frozenset({Reason.LISTS_EXPIRED, Reason.LISTS_UNAVAILABLE})
# The codes of the registry's API, in order (its OpenAPI `ReasonCode` enum).
API_REASONS = tuple(reason for reason in Reason if reason not in PACKAGE_ONLY)
