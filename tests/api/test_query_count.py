"""A verification costs a fixed number of queries, whatever the size of the
registry (DESIGN §5, §9): thousands of merchants and agreements later, every
path issues exactly the queries it issued on the small world."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_countries import countries
from simple_history.utils import bulk_create_with_history

from identity.models import Authority, IssuedCredential, Merchant
from recognition.models import AgreementStatus, RecognitionAgreement
from tests.support.actors import World
from tests.support.api import BATCH_URL, Api
from tests.support.tokens import sign

# Countries of the bulk authorities; CN, CL and KZ are the world's.
COUNTRIES = [code for code, _ in countries if code not in {"CN", "CL", "KZ"}][:40]
DESTINATIONS = ["CN", "CL", "KZ", *COUNTRIES]

# What one request costs, query by query, once the worker's registry snapshot
# is current (authorities, keys, agreements and types are read from it; a
# change reloads it once: tests/api/test_hot_path_registry_cache.py). The
# decisions are recorded in an atomic block, a savepoint inside the test's
# transaction (in production: PostgreSQL runs the one INSERT in autocommit,
# SQLite BEGIN/COMMIT, which are not counted as queries). No log lock and no
# head read any more (the chain's took one round trip): the log entries and
# the decision rows go in one statement on PostgreSQL, one INSERT a table on
# SQLite.
API_KEY = 1  # the key, by prefix
REGISTRY = 1  # merchant, credential status and the registry stamp: one query for all the tokens


def audit() -> int:
    """SAVEPOINT, the INSERT of the entries and the rows (PostgreSQL: one
    statement; SQLite: one a table), RELEASE SAVEPOINT."""
    return 3 if connection.vendor == "postgresql" else 4


def expected() -> dict[str, tuple[str, int]]:
    return {
        "accepted cross-border": ("accepted", API_KEY + REGISTRY + audit()),
        "domestic": ("accepted", API_KEY + REGISTRY + audit()),
        "no agreement": ("rejected", API_KEY + REGISTRY + audit()),
        "malformed": ("rejected", API_KEY + audit()),  # no issuer to look up
        "unknown merchant": ("rejected", API_KEY + REGISTRY + audit()),
    }


BATCH = 10


def warm(world: World, api: Api) -> None:
    """Load this worker's registry snapshot, as the first request after a
    change does."""
    assert api.verify(sign(world.cl), "CN").status_code == 200


def measure(world: World, api: Api) -> dict[str, tuple[str, int]]:
    warm(world, api)
    requests = {
        "accepted cross-border": (sign(world.cl), "CN"),
        "domestic": (sign(world.cn), "CN"),
        "no agreement": (sign(world.kz), "CN"),
        "malformed": ("not-a-token", "CN"),
        "unknown merchant": (sign(world.cl, sub="CL-999999"), "CN"),
    }
    counts = {}
    for path, (token, destination) in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = api.verify(token, destination)
        assert response.status_code == 200, response.content
        counts[path] = (response.json()["decision"], len(queries))
    return counts


def measure_batch(world: World, api: Api) -> int:
    warm(world, api)
    items = [{"token": sign(world.cl), "destination": "CN"} for _ in range(BATCH)]
    with CaptureQueriesContext(connection) as queries:
        response = api.post(BATCH_URL, {"items": items})
    assert response.status_code == 200, response.content
    assert {result["decision"] for result in response.json()["results"]} == {"accepted"}
    return len(queries)


def grow(world: World, tag: str, *, authorities: int, merchants: int, agreements: int) -> None:
    """Bulk data around the world's actors: authorities over 40 countries,
    merchants (some with registry-issued credentials) spread over every
    authority, and agreements linking many destinations to many authorities,
    CN among them."""
    now = timezone.now()
    created = Authority.objects.bulk_create(
        Authority(country=COUNTRIES[n % len(COUNTRIES)], name=f"Authority {tag}{n}", issuer=f"https://{tag}{n}.test/")
        for n in range(authorities)
    )
    pool = [world.cl.authority, world.cn.authority, world.kz.authority, *created]
    rows = Merchant.objects.bulk_create(
        Merchant(authority=pool[n % len(pool)], registration_number=f"{tag}-{n:06d}", legal_name=f"Shop {tag}{n}")
        for n in range(merchants)
    )
    IssuedCredential.objects.bulk_create(
        IssuedCredential(
            jti=f"{tag}-jti-{merchant.pk}",
            merchant=merchant,
            key=world.cl.key,
            credential_type=world.merchant_identity,
            assurance="low",
            issued_at=now - timedelta(days=1),
            expires_at=now + timedelta(days=300),
        )
        for merchant in rows
        if merchant.authority_id == world.cl.authority.pk
    )
    pairs = [(d, a) for a in created for d in DESTINATIONS if d != a.country.code][:agreements]
    assert len(pairs) == agreements
    made = bulk_create_with_history(
        [
            RecognitionAgreement(
                destination=destination,
                authority=authority,
                origin=authority.country,
                min_assurance="low",
                valid_from=now - timedelta(days=10),
                status=AgreementStatus.ACTIVE if n % 3 else AgreementStatus.DRAFT,
                legal_basis=f"Memorandum {tag}{n}" if n % 3 else "",
            )
            for n, (destination, authority) in enumerate(pairs)
        ],
        RecognitionAgreement,
    )
    through = RecognitionAgreement.credential_types.through
    through.objects.bulk_create(
        through(recognitionagreement_id=agreement.pk, credentialtype_id=world.merchant_identity.pk)
        for agreement in made
    )


def more_candidates_for_cn_and_cl(world: World) -> None:
    """Agreements of CN for Chile's authority that do not decide (drafts,
    suspended, another type): more candidates to load, the same answer."""
    now = timezone.now()
    for status, types in [("draft", []), ("suspended", []), ("terminated", []), ("active", [world.export_licence])]:
        agreement = RecognitionAgreement.objects.create(
            destination="CN",
            authority=world.cl.authority,
            origin="CL",
            min_assurance="high",
            valid_from=now - timedelta(days=5),
            status=status,
            legal_basis="" if status == "draft" else "Side letter",
        )
        agreement.credential_types.set(types or [world.merchant_identity])


def test_verification_issues_a_fixed_number_of_queries_whatever_the_data_size(world, api):
    small = measure(world, api)
    small_batch = measure_batch(world, api)

    grow(world, "a", authorities=50, merchants=3000, agreements=2000)
    assert (Merchant.objects.count(), RecognitionAgreement.objects.count()) == (3003, 2001)
    large = measure(world, api)
    large_batch = measure_batch(world, api)

    grow(world, "b", authorities=25, merchants=1000, agreements=1000)
    more_candidates_for_cn_and_cl(world)
    assert (Merchant.objects.count(), RecognitionAgreement.objects.count()) == (4003, 3005)
    larger = measure(world, api)
    larger_batch = measure_batch(world, api)

    assert small == large == larger == expected()
    # A batch: the key once, one look-up for all the items, one recording for all.
    assert small_batch == large_batch == larger_batch == API_KEY + REGISTRY + audit()


@pytest.mark.parametrize("path", ["accepted cross-border", "domestic"])
def test_revoked_registry_credential_costs_no_extra_query(world, api, path):
    actor, destination = (world.cl, "CN") if path == "accepted cross-border" else (world.cn, "CN")
    now = timezone.now()
    IssuedCredential.objects.create(
        jti="registry-issued-1",
        merchant=actor.merchant,
        key=actor.key,
        credential_type=world.merchant_identity,
        assurance="substantial",
        issued_at=now - timedelta(days=1),
        expires_at=now + timedelta(days=30),
        status="revoked",
        revoked_at=now,
    )

    warm(world, api)
    with CaptureQueriesContext(connection) as queries:
        body = api.verify(sign(actor, jti="registry-issued-1"), destination).json()

    assert [reason["code"] for reason in body["reasons"]] == ["credential_revoked"]
    assert len(queries) == expected()[path][1]
