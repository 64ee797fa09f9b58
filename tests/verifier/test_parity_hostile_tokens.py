"""The hostile tokens of tests/api/ (signatures, algorithms, headers, kids,
encodings), each through the API and the verifier package (conftest.py)."""

from tests.api.test_hostile_encoding import *  # noqa: F403
from tests.api.test_hostile_tokens import *  # noqa: F403
