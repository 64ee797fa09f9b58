"""The algorithms and the token type of a merchant credential (DESIGN §3, §4):
the allow-list is merchant_verifier's (merchant_verifier.algorithms), read by
every part of the registry (key intake, the model's choices, token parsing,
the signature layer) and by the package platforms verify with."""

from django.db import models

from merchant_verifier.algorithms import (
    ACCEPTED_TYPS,
    ALGORITHMS,
    ALLOWED_ALGS,
    CREDENTIAL_TYP,
    UNTRUSTED_HEADERS,
)

# The allow-list as model choices: exact, case-sensitive names (RFC 8725 §3.1).
Alg = models.TextChoices("Alg", [(name.upper(), (name, label)) for name, label in ALGORITHMS], module=__name__)

__all__ = ["ACCEPTED_TYPS", "ALLOWED_ALGS", "CREDENTIAL_TYP", "UNTRUSTED_HEADERS", "Alg"]
