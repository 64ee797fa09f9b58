"""Schema-driven fuzzing: schemathesis reads the registry's
own /api/schema/ and sends every operation generated requests, positive and
negative, in process through the WSGI application (no server, no network).

Every response passes every check schemathesis has, none excluded (what
`schemathesis run --checks all` runs): among them no 5xx, a status, media
type, headers and body the schema documents, a request the schema admits
accepted (positive_data_acceptance) and one it refuses refused
(negative_data_rejection). The repository's schemathesis.toml, which
`schemathesis run` reads too, configures them (test_no_check_is_excluded).

Each operation is one pytest test in its own database transaction, holding
the shared actors (tests/support/actors.py) and one API key per role. Each request
carries a credential picked from the generated case itself (so that a
failing case replays with the same one): mostly the key of the role the
operation is for (regulator for the regulator endpoints and the public
reads, platform for verification), else none, an unknown key, or the other
role's key, so that the 401 and 403 answers are checked too.

The audit log holds the shared actors' registry changes, integrated and
signed (so that small consistency sizes and tiles exist); a log that has
signed nothing yet is test_documented_statuses.py's checkpoint case.

Bounded: FUZZ_MAX_EXAMPLES examples per operation (default 50) on top of
schemathesis's coverage phase, with a fixed seed; FUZZ_RANDOM=1 draws a new
seed for a longer search, e.g.
`FUZZ_RANDOM=1 FUZZ_MAX_EXAMPLES=300 pytest tests/fuzz -n 2`.
"""

import os
import zlib

from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from recognition.log.integrator import integrate_all
from tests.fuzz.conftest import SCHEMA

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
UNKNOWN_KEY = "Api-Key unknownprefix.0123456789abcdef0123456789abcdef"


def role_for(path: str) -> str:
    return "platform" if path.startswith("/api/v1/verifications/") else "regulator"


CREDENTIALS = ("own", "own", "own", "none", "unknown", "other")


def credential_for(case) -> str:
    seen = repr((case.path_parameters, case.query, case.headers, case.body)).encode("utf-8", "surrogatepass")
    return CREDENTIALS[zlib.crc32(seen) % len(CREDENTIALS)]


def authorization(credential: str, path: str, keys: dict[str, str]) -> dict[str, str]:
    role = role_for(path)
    if credential == "own":
        return {"Authorization": f"Api-Key {keys[role]}"}
    if credential == "other":
        return {"Authorization": f"Api-Key {keys['regulator' if role == 'platform' else 'platform']}"}
    if credential == "unknown":
        return {"Authorization": UNKNOWN_KEY}
    return {}


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one transaction per operation, on purpose
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_operation_answers_as_the_schema_documents(case, keys):
    if case.operation.path.startswith("/api/v1/audit/log/"):
        integrate_all()  # nothing to do after the first example
    headers = authorization(credential_for(case), case.operation.path, keys)
    case.call_and_validate(headers=headers)  # every check schemathesis has, none excluded


def test_no_check_is_excluded():
    """The fuzzing above runs every check: none disabled by the
    configuration, for any operation (a per-operation status list, as for
    the log's state-bound parameters, is allowed; switching a check off is
    not)."""
    load_all_checks()
    names = CHECKS.get_all_names()
    assert {"positive_data_acceptance", "negative_data_rejection", "response_schema_conformance"} <= set(names)
    for operation in SCHEMA.get_all_operations():
        config = SCHEMA.config.checks_config_for(operation=operation.ok())
        disabled = [name for name in names if not config.get_by_name(name=name).enabled]
        assert not disabled, f"{operation.ok().label}: {disabled}"
