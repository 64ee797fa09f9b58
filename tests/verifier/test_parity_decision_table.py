"""Every reason code of DESIGN §5 (tests/api/test_verification_reasons.py),
each token through the API and the verifier package (conftest.py)."""

from tests.api.test_verification_reasons import *  # noqa: F403
