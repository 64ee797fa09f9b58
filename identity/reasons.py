"""The reason codes of DESIGN §5 as the registry's model and API choices.

One list: the codes and their labels are merchant_verifier's (the package
platforms verify with offline), so the API and the package cannot disagree.
The registry's `Reason` holds the codes its API gives: not the package's own
`lists_expired` and `lists_unavailable`, which only a verifier at the edge
can meet."""

from django.db import models

from merchant_verifier.reasons import API_REASONS

Reason = models.TextChoices("Reason", [(code.name, (code.value, code.label)) for code in API_REASONS], module=__name__)


def reason_label(code: str) -> str:
    """The human label of a code, for pages; an unknown code (a row older
    than a code's retirement, say) is shown as it is."""
    return Reason(code).label if code in Reason.values else code
