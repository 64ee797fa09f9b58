"""Verify merchant identity credentials at the platform's edge, from the
registry's signed lists: the same decision and reason codes as the
registry's API (DESIGN §5), without asking the registry for each token."""

from merchant_verifier.model import Policy
from merchant_verifier.verifier import Answer, Verifier

__all__ = ["Answer", "Policy", "Verifier"]
