"""Every status the schema documents is one the registry really answers
(DESIGN §10): REACHED maps each documented (method, path, status) to a
request that produces it, and the request is sent here, through the WSGI
application, and its answer checked against the schema (documented media
type, body of the documented schema). The table must cover exactly what
/api/schema/ documents: a status added to the schema without a way to reach
it, or one removed from it and left here, fails test_the_table_is_the_schema.

A 405 is documented on a path's one operation, but it is the path's answer
to every other method, so its request uses another method. The statuses the
registry cannot answer were removed from the schema instead (503 where an
answer never reads the database: /trqp/lookups/assuranceLevels).
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client as DjangoClient
from django.utils import timezone
from schemathesis.core import media_types
from werkzeug.test import Client

from identity.services.credentials import credential_issue
from recognition.log.integrator import integrate_all
from recognition.models import LogEntry
from recognition.services.audit import record_decisions
from tests.fuzz.conftest import APPLICATION, SCHEMA
from tests.support.audit import entry

TOO_BIG = b'{"token": "' + b"x" * (1024 * 1024) + b'"}'
UNKNOWN_KEY = "unknownprefix.0123456789abcdef0123456789abcdef"
CSRF_SECRET = "a" * 32  # an unmasked CSRF secret: accepted in the cookie and the header alike


@dataclass(frozen=True)
class Send:
    """How to provoke an answer. `key`: "own" (the operation's role: platform
    for verification, regulator elsewhere), "platform", "regulator",
    "unknown", "none", or "roleless" (a staff session without a role)."""

    method: str | None = None  # default: the operation's own
    url: str | None = None  # default: the path, with the shared actors' ids
    query: str = ""
    key: str = "own"
    body: bytes | None = None
    content_type: str = "application/json"
    repeat: int = 1  # with a rate of 1/min, the second call is throttled
    database_down: bool = False
    held: bool = False  # sent with If-None-Match: the ETag of the answer to the same request just before


# A valid body for each POST operation.
ONE = b'{"token": "a.b.c", "destination": "CN"}'
BATCH = b'{"items": [{"token": "a.b.c", "destination": "CN"}]}'
TRQP_ISSUE = b'{"entity_id": "https://registro-cl.test/issuer", "authority_id": "CL", "action": "issue", "resource": "merchant-identity"}'  # noqa: E501
TRQP_RECOGNIZE = b'{"entity_id": "https://registro-cl.test/issuer", "authority_id": "CN", "action": "recognize", "resource": "merchant-identity"}'  # noqa: E501
TRQP_UNKNOWN = b'{"entity_id": "https://nobody.test/issuer", "authority_id": "CN", "action": "%s", "resource": "merchant-identity"}'  # noqa: E501


def read_statuses(
    *, not_found: Send | None = None, regulator_only: bool = False, not_modified: Send | None = None
) -> dict[int, Send | tuple[Send, ...]]:
    """The answers the keyed reads share."""
    table: dict[int, Send | tuple[Send, ...]] = {
        200: Send(),
        400: Send(query="nonsense=1"),
        401: Send(key="unknown"),
        429: Send(repeat=2),
        503: Send(database_down=True),
    }
    if not_found:
        table[404] = not_found
    if not_modified:
        table[304] = not_modified
    if regulator_only:
        table[401] = (Send(key="unknown"), Send(key="none"))
        table[403] = Send(key="platform")
    return table


PAST_THE_LAST_PAGE = Send(query="page=999")

LOG = "/api/v1/audit/log/"
NO_ENTRY = f"{LOG}entries/00000000-0000-4000-8000-000000000000/proof"
ENTRY_BUNDLE = f"{LOG}tile/entries/000.p/1"


def public_log_statuses(query: str = "") -> dict[int, Send]:
    """The public log endpoints authenticate nobody: no 401, 403 or 429."""
    return {200: Send(query=query), 400: Send(query="nonsense=1"), 503: Send(query=query, database_down=True)}


def verification_statuses(body: bytes) -> dict[int, Send]:
    return {
        200: Send(body=body),
        400: Send(body=b"{}"),
        401: Send(body=body, key="none"),
        403: Send(body=body, key="roleless"),
        405: Send(method="GET"),
        413: Send(body=TOO_BIG),
        415: Send(body=body, content_type="text/plain"),
        429: Send(body=body, repeat=2),
        503: Send(body=body, database_down=True),
    }


def trqp_query_statuses(body: bytes, action: str) -> dict[int, Send]:
    return {
        200: Send(body=body),
        400: Send(body=b"[]"),
        404: Send(body=TRQP_UNKNOWN % action.encode()),
        405: Send(method="GET"),
        413: Send(body=TOO_BIG),
        415: Send(body=body, content_type="text/plain"),
        503: Send(body=body, database_down=True),
    }


REACHED: dict[tuple[str, str], dict[int, Send | tuple[Send, ...]]] = {
    ("GET", "/.well-known/jwks.json"): {200: Send(), 304: Send(held=True), 503: Send(database_down=True)},
    ("GET", "/api/v1/authorities/"): read_statuses(not_found=PAST_THE_LAST_PAGE),
    ("GET", "/api/v1/authorities/{id}/"): read_statuses(not_found=Send(url="/api/v1/authorities/999999/")),
    ("GET", "/api/v1/authorities/{id}/jwks.json"): read_statuses(
        not_found=Send(url="/api/v1/authorities/999999/jwks.json"), not_modified=Send(key="none", held=True)
    ),
    ("GET", "/api/v1/agreements/"): read_statuses(not_found=PAST_THE_LAST_PAGE),
    ("GET", "/api/v1/agreements/{id}/"): read_statuses(not_found=Send(url="/api/v1/agreements/999999/")),
    ("GET", "/api/v1/agreements/{id}/history/"): read_statuses(
        not_found=Send(url="/api/v1/agreements/999999/history/"), regulator_only=True
    ),
    ("GET", "/api/v1/audit/integrity/"): read_statuses(regulator_only=True),
    ("GET", f"{LOG}witnesses"): read_statuses(regulator_only=True),
    ("GET", "/api/v1/audit/verifications/"): {
        **read_statuses(regulator_only=True),
        200: (Send(), Send(query="format=csv"), Send(query="format=jsonl")),
    },
    # The log: the caller integrates the shared actors' changes first (but for
    # the checkpoint, which signs the first one itself) and leaves one
    # decision pending ({pending}); {entry_id} is leaf 0, {path} tile 0/000.p/1.
    ("GET", f"{LOG}checkpoint"): public_log_statuses(),
    ("GET", f"{LOG}key"): public_log_statuses(),
    ("GET", f"{LOG}consistency"): {**public_log_statuses("first=1&second=1"), 400: Send(query="first=2&second=1")},
    ("GET", f"{LOG}entries/{{entry_id}}/proof"): {
        200: Send(),
        400: Send(query="size=0"),
        401: (Send(key="unknown"), Send(key="none")),
        404: Send(url=NO_ENTRY),
        409: Send(url=f"{LOG}entries/{{pending}}/proof"),
        429: Send(repeat=2),
        503: Send(database_down=True),
    },
    ("GET", f"{LOG}entries/{{entry_id}}/evidence"): {
        200: Send(url=f"{LOG}entries/{{decision}}/evidence"),
        400: Send(url=f"{LOG}entries/{{decision}}/evidence", query="nonsense=1"),
        401: (Send(key="unknown"), Send(key="none")),
        404: (Send(), Send(url=NO_ENTRY.replace("/proof", "/evidence"))),  # a change's entry, an unknown id
        409: Send(url=f"{LOG}entries/{{pending}}/evidence"),
        429: Send(url=f"{LOG}entries/{{decision}}/evidence", repeat=2),
        503: Send(url=f"{LOG}entries/{{decision}}/evidence", database_down=True),
    },
    ("GET", f"{LOG}tile/{{path}}"): {
        200: (Send(), Send(url=ENTRY_BUNDLE)),
        400: Send(query="nonsense=1"),
        401: (Send(url=ENTRY_BUNDLE, key="unknown"), Send(url=ENTRY_BUNDLE, key="none")),
        403: Send(url=ENTRY_BUNDLE, key="platform"),
        404: Send(url=f"{LOG}tile/0/001"),
        429: Send(url=ENTRY_BUNDLE, repeat=2),
        503: Send(database_down=True),
    },
    ("GET", "/api/v1/recognition/"): {
        200: Send(query="origin=CL&destination=CN"),
        400: Send(query="origin=CL"),
        503: Send(query="origin=CL&destination=CN", database_down=True),
    },
    ("GET", "/api/v1/recognition/matrix/"): {
        200: Send(),
        400: Send(query="at=yesterday"),
        503: Send(database_down=True),
    },
    ("GET", "/api/v1/trust-lists/{country}/"): {
        200: Send(),
        304: Send(held=True),
        400: Send(url="/api/v1/trust-lists/cn/"),
        503: Send(database_down=True),
    },
    ("GET", "/api/v1/status-lists/{number}/"): {
        200: Send(),
        304: Send(held=True),
        400: Send(query="time=yesterday"),
        404: Send(url="/api/v1/status-lists/999999/"),
        503: Send(database_down=True),
    },
    ("GET", "/api/v1/merchant-status/{country}/"): {
        200: Send(),
        304: Send(held=True),
        400: Send(url="/api/v1/merchant-status/cn/"),
        503: Send(database_down=True),
    },
    ("POST", "/api/v1/verifications/"): verification_statuses(ONE),
    ("POST", "/api/v1/verifications/batch/"): verification_statuses(BATCH),
    ("POST", "/trqp/authorization"): trqp_query_statuses(TRQP_ISSUE, "issue"),
    ("POST", "/trqp/recognition"): trqp_query_statuses(TRQP_RECOGNIZE, "recognize"),
    ("GET", "/trqp/metadata"): {
        200: Send(),
        405: Send(method="POST", body=b"{}"),
        503: Send(database_down=True),
    },
    ("GET", "/trqp/lookups/assuranceLevels"): {
        200: Send(query="authority_id=CN"),
        400: Send(query="authority_id=cn"),
        404: Send(query="authority_id=did:example:ecosystem"),
        405: Send(method="POST", body=b"{}"),
    },
    ("GET", "/trqp/lookups/authorizations"): {
        200: Send(query="authority_id=CN"),
        400: Send(query="authority_id=cn"),
        404: Send(query="authority_id=did:example:ecosystem"),
        405: Send(method="POST", body=b"{}"),
        503: Send(database_down=True),
    },
    ("GET", "/trqp/entities"): {
        200: Send(query="authority_id=CN"),
        400: Send(),
        404: Send(query="authority_id=did:example:ecosystem"),
        405: Send(method="POST", body=b"{}"),
        503: Send(query="authority_id=CN", database_down=True),
    },
}

CASES = [
    pytest.param(method, path, status, send, id=f"{method} {path} {status}" + (f" #{index}" if index else ""))
    for (method, path), statuses in REACHED.items()
    for status, sends in statuses.items()
    for index, send in enumerate(sends if isinstance(sends, tuple) else (sends,))
]


def documented() -> dict[tuple[str, str, int], set[str]]:
    """(method, path, status) -> the media types documented for it."""
    return {
        (method.upper(), path, int(status)): set(response.get("content", {}))
        for path, operations in SCHEMA.raw_schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
    }


def test_the_table_is_the_schema():
    table = {(method, path, status) for (method, path), statuses in REACHED.items() for status in statuses}
    schema = set(documented())
    assert not schema - table, f"documented, but no request here reaches it: {sorted(schema - table)}"
    assert not table - schema, f"reached here, but not documented: {sorted(table - schema)}"


def test_every_documented_media_type_is_reached():
    reached: dict[tuple[str, str, int], int] = {}
    for (method, path), statuses in REACHED.items():
        for status, sends in statuses.items():
            reached[(method, path, status)] = len(sends) if isinstance(sends, tuple) else 1
    for triple, types in documented().items():
        assert reached.get(triple, 0) >= len(types), f"{triple}: one request per media type of {sorted(types)}"


@pytest.fixture
def caller(keys, world, settings):
    """Sends a Send through the WSGI application, with a 1/min rate so that
    a repeated call is throttled (the counters start empty)."""
    settings.API_THROTTLE_RATE = "1/min"
    cache.clear()
    roleless = get_user_model().objects.create_user("nobody", password=None, is_staff=True)
    ids = {"authorities": world.cn.authority.pk, "agreements": world.cn_recognizes_cl.pk}
    # A credential the registry issued, so that its status list exists.
    issued = credential_issue(
        merchant=world.cl.merchant, private_key=world.cl.private_key, credential_type=world.merchant_identity
    )

    def call(method: str, path: str, send: Send):
        client = Client(APPLICATION)
        headers = {}
        key = keys["platform" if path.startswith("/api/v1/verifications/") else "regulator"]
        key = {"own": key, "platform": keys["platform"], "regulator": keys["regulator"], "unknown": UNKNOWN_KEY}.get(
            send.key
        )
        if key:
            headers["Authorization"] = f"Api-Key {key}"
        if send.key == "roleless":
            session = DjangoClient()
            session.force_login(roleless)
            client.set_cookie("sessionid", session.cookies["sessionid"].value)
            client.set_cookie("csrftoken", CSRF_SECRET)
            headers["X-CSRFToken"] = CSRF_SECRET
        kind = path.split("/")[3] if path.startswith("/api/v1/") else ""
        log = {}
        if path.startswith(LOG):
            decision = record_decisions([entry(client="fuzz-platform")], at=timezone.now())[0]
            if path != f"{LOG}checkpoint":
                integrate_all()
            pending = record_decisions([entry(client="fuzz-platform")], at=timezone.now())[0]
            leaf_0 = LogEntry.objects.filter(seq=0).values_list("id", flat=True).first()
            log = {"entry_id": leaf_0, "pending": pending.id, "path": "0/000.p/1", "decision": decision.id}
        url = (send.url or path).format(
            id=ids.get(kind), country="CN", kind=kind, number=issued.credential.status_list.number, **log
        )
        arguments = {"method": send.method or method, "headers": headers, "query_string": send.query}
        if send.body is not None:
            arguments.update(data=send.body, content_type=send.content_type)
        for _ in range(send.repeat - 1):
            client.open(url, **arguments)
        if send.held:
            headers["If-None-Match"] = client.open(url, **arguments).headers["ETag"]
        if not send.database_down:
            return client.open(url, **arguments)

        def down(*args, **kwargs):
            raise OperationalError("the database is down (test)")

        with connection.execute_wrapper(down):
            return client.open(url, **arguments)

    yield call
    cache.clear()


@pytest.mark.parametrize(("method", "path", "status", "send"), CASES)
def test_each_documented_status_is_reached_as_documented(caller, method, path, status, send):
    response = caller(method, path, send)
    assert response.status_code == status, response.get_data()[:300]
    types = documented()[(method, path, status)]
    if not types:  # 304: no body, no media type
        assert (response.get_data(), response.headers.get("Content-Type")) == (b"", None)
        return
    answered = media_types.parse(response.headers.get("Content-Type", ""))
    assert any(media_types.parse(documented_type) == answered for documented_type in types), (
        f"{response.headers.get('Content-Type')} is not one of {sorted(types)}"
    )
    SCHEMA[path][method].validate_response(response)  # the body, against the schema of this status
