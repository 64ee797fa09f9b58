"""The transparency log over HTTP (DESIGN §5 `audit`, §6 endpoints), checked
from the outside: every checkpoint is verified with the served key (by
recognition/log/notes.py and by the README's stand-alone check), every proof
with RFC 9162's verification against a signed root, every tile against the
tree recomputed from the entries' stored bytes.

The public endpoints (checkpoint, key, consistency, hash tiles) attempt no
authentication, like the trust lists: an Authorization header meant for the
verification API, right or wrong, changes nothing. An entry's proof is for
regulators and for the API key that made the decision (404 for anyone else,
as for an unknown id); entry bundles are for regulators.
"""

import base64
import json
import time
import uuid

import pytest
from django.utils import timezone
from jwcrypto import jwk, jws
from rest_framework.test import APIClient

from accounts.services import api_key_create
from identity.services.merchants import merchant_register
from recognition.log import tree
from recognition.log.integrator import integrate_all
from recognition.log.integrity import check_log
from recognition.log.keys import log_key
from recognition.models import Checkpoint, LogEntry, LogTile, Verification
from recognition.services.audit import record_decisions
from tests.support.api import BATCH_URL, error_of, keyed, session
from tests.support.audit import audit_of, entry, expected_entry, leaf_hash
from tests.support.cli import call
from tests.support.log_api import (
    LOG,
    b64decode,
    check_inclusion,
    checkpointed_sizes,
    entry_bundle,
    grow,
    latest,
    opened,
    proof_of,
    stored_leaves,
    tiles_of,
    vkeys,
)
from tests.support.tokens import sign

UNKNOWN_KEY = "Api-Key unknownprefix.0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def every_batch_signs_a_checkpoint(settings):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}


def grown_log(world, api, settings) -> list[int]:
    """A log that grew in five checkpoints, past two full tiles of leaves:
    the shared actors' registry changes, decisions through the API, a
    registry change and a decision, then decisions in bulk. The sizes."""
    sizes = [integrate_all().size]
    for actor in (world.cl, world.kz, world.cn):
        assert api.verify(sign(actor), "CN").status_code == 200
    sizes.append(integrate_all().size)
    merchant_register(
        authority=world.cl.authority,
        registration_number="CL-0002",
        legal_name="Segunda Prueba SpA",
        assurance="substantial",
    )
    assert api.verify(sign(world.cl), "CN").status_code == 200
    sizes.append(integrate_all().size)
    sizes.append(grow(settings, decisions=250))
    sizes.append(grow(settings, decisions=300))
    assert sizes == checkpointed_sizes() and sizes[-1] == LogEntry.objects.count()
    assert sizes[-1] > 2 * tree.TILE_WIDTH and sizes[-1] % tree.TILE_WIDTH
    return sizes


def entry_at(seq: int) -> LogEntry:
    return LogEntry.objects.get(seq=seq)


def directives(cache_control: str) -> dict[str, str | None]:
    parts = (part.strip().partition("=") for part in cache_control.split(","))
    return {name.lower(): value or None for name, _, value in parts}


# GET checkpoint -----------------------------------------------------------------------------


def test_checkpoint_is_the_signed_c2sp_checkpoint_of_the_tree(world, api, settings):
    sizes = grown_log(world, api, settings)

    response = APIClient().get(f"{LOG}checkpoint")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    note = response.content.decode("utf-8")
    origin = settings.AUDIT_LOG["ORIGIN"]
    lines = note.split("\n")
    assert len(lines) == 6 and lines[3] == lines[5] == ""
    assert lines[:2] == [origin, str(sizes[-1])]
    assert lines[4].startswith(f"\u2014 {origin} ")
    leaves = stored_leaves()
    assert opened(note, vkeys()[0]) == (len(leaves), tree.root_of(leaves))
    assert b64decode(lines[2]) == tree.root_of(leaves)


def test_checkpoint_may_be_cached_for_a_second_only(world):
    response = APIClient().get(f"{LOG}checkpoint")
    cache = directives(response["Cache-Control"])
    assert "immutable" not in cache and "s-maxage" not in cache
    assert 0 <= int(cache["max-age"]) <= 5


def test_a_log_that_signed_nothing_yet_signs_its_first_checkpoint_when_asked(world):
    assert not Checkpoint.objects.exists()
    pending = LogEntry.objects.count()

    note, size, root = latest()

    assert (size, root) == (pending, tree.root_of(stored_leaves())) and size > 0
    assert list(Checkpoint.objects.values_list("size", "note")) == [(size, note)]


def test_an_empty_log_signs_the_empty_tree(db):
    note, size, root = latest()
    assert (size, root) == (0, tree.EMPTY_ROOT)


PUBLIC = ["checkpoint", "key", "consistency?first=1&second=1", "tile/0/000.p/1"]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_log_endpoints_ignore_an_authorization_header_as_the_trust_lists_do(world, api, path):
    integrate_all()
    anonymous = APIClient().get(f"{LOG}{path}")
    assert anonymous.status_code == 200, anonymous.content
    for authorization in (UNKNOWN_KEY, f"Api-Key {api.key}", "Bearer not-a-key", "Api-Key"):
        response = APIClient().get(f"{LOG}{path}", HTTP_AUTHORIZATION=authorization)
        assert (response.status_code, response.content) == (200, anonymous.content), authorization
        assert response["Content-Type"] == anonymous["Content-Type"]
    trust_list = APIClient().get("/api/v1/recognition/?origin=CL&destination=CN", HTTP_AUTHORIZATION=UNKNOWN_KEY)
    assert trust_list.status_code == 200


@pytest.mark.parametrize("path", [*PUBLIC, "entries/{id}/proof", "tile/entries/000.p/1"])
def test_errors_of_the_log_endpoints_are_json_whatever_the_endpoints_media_type(world, regulator, path):
    integrate_all()
    url = f"{LOG}{path.format(id=entry_at(0).id)}"
    response = regulator.get(url + ("&" if "?" in url else "?") + "nonsense=1")
    assert "nonsense" in error_of(response, 400, "invalid_request")


# GET key ------------------------------------------------------------------------------------


def test_key_lists_the_log_key_as_a_signed_note_vkey(world, settings):
    key = log_key()
    lines = vkeys()
    assert lines == [key.vkey]
    name, key_id, encoded = lines[0].split("+", 2)
    assert name == settings.AUDIT_LOG["ORIGIN"]
    assert bytes.fromhex(key_id) == key.key_id
    assert base64.b64decode(encoded) == b"\x01" + key.public_key


def test_after_a_rotation_the_key_lists_the_new_key_first_and_old_checkpoints_still_verify(world, settings, tmp_path):
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "KEY_PATH": str(tmp_path / "audit-log-key.pem")}
    call("rotate_audit_log_key")
    first = vkeys()
    old_size = grow(settings, decisions=3)

    call("rotate_audit_log_key")
    rotated = vkeys()
    new_size = grow(settings, decisions=2)

    assert len(first) == 1 and rotated == [log_key().vkey, first[0]] and rotated[0] != first[0]
    old_note = Checkpoint.objects.get(size=old_size).note
    assert opened(old_note, rotated[1])[0] == old_size
    note, size, _ = latest()  # verified with the first key listed
    assert size == new_size
    with pytest.raises(ValueError):
        opened(note, rotated[1])
    with pytest.raises(ValueError):
        opened(old_note, rotated[0])
    assert check_log().intact

    call("rotate_audit_log_key")
    assert vkeys() == [log_key().vkey, *rotated]


# GET consistency ----------------------------------------------------------------------------


def test_consistency_proofs_verify_between_every_pair_of_checkpointed_sizes(world, api, settings):
    sizes = grown_log(world, api, settings)
    vkey, leaves = vkeys()[0], stored_leaves()
    roots = {}
    for checkpoint in Checkpoint.objects.all():
        roots[checkpoint.size] = opened(checkpoint.note, vkey)[1]
        assert roots[checkpoint.size] == tree.root_of(leaves[: checkpoint.size])

    for first in sizes:
        for second in (size for size in sizes if size >= first):
            response = APIClient().get(f"{LOG}consistency?first={first}&second={second}")
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/json"
            body = response.json()
            assert (set(body), body["first"], body["second"]) == ({"first", "second", "proof"}, first, second)
            proof = [b64decode(h) for h in body["proof"]]
            assert tree.verify_consistency(first, second, roots[first], roots[second], proof), (first, second)
            assert bool(proof) == (first != second)


def test_consistency_between_sizes_no_checkpoint_has_verifies_against_the_recomputed_roots(world, api, settings):
    sizes = grown_log(world, api, settings)
    leaves = stored_leaves()
    for first, second in [(1, sizes[-1]), (sizes[-1] - 1, sizes[-1]), (255, 257), (256, 511), (3, 300)]:
        body = APIClient().get(f"{LOG}consistency?first={first}&second={second}").json()
        proof = [b64decode(h) for h in body["proof"]]
        assert tree.verify_consistency(
            first, second, tree.root_of(leaves[:first]), tree.root_of(leaves[:second]), proof
        )


CONSISTENCY_REFUSED = {
    "zero": ("first=0&second={size}", "first"),
    "first after second": ("first=3&second=2", "first"),
    "beyond the latest checkpoint": ("first=1&second={beyond}", "latest"),
    "both beyond": ("first={beyond}&second={beyond}", "latest"),
    "first missing": ("second={size}", "first"),
    "second missing": ("first=1", "second"),
    "none": ("", "first"),
    "repeated": ("first=1&first=1&second={size}", "first: given more than once"),
    "unknown": ("first=1&second={size}&third=2", "unknown query parameters: third"),
    "not an integer": ("first=one&second={size}", "first"),
    "a fraction": ("first=1.5&second={size}", "first"),
    "empty": ("first=&second={size}", "first"),
    "negative": ("first=1&second=-2", "second"),
    "huge": ("first=1&second=99999999999999999999999", "second"),
}


@pytest.mark.parametrize(("query", "named"), CONSISTENCY_REFUSED.values(), ids=CONSISTENCY_REFUSED)
def test_consistency_refuses_sizes_out_of_range_and_malformed_queries(world, query, named):
    size = integrate_all().size
    response = APIClient().get(f"{LOG}consistency?" + query.format(size=size, beyond=size + 1))
    assert named in error_of(response, 400, "invalid_request")


# GET entries/{id}/proof ---------------------------------------------------------------------


def test_inclusion_proofs_verify_at_every_checkpointed_size_that_holds_the_entry(world, api, settings, regulator):
    sizes = grown_log(world, api, settings)
    vkey = vkeys()[0]
    seqs = {0, 1, 255, 256, 257, 300, 511, 512, *(size - 1 for size in sizes), *(size for size in sizes[:-1])}

    for seq in sorted(seqs):
        stored = entry_at(seq)
        by_default = proof_of(regulator, stored.id)
        assert by_default["size"] == sizes[-1]
        for size in [size for size in sizes if size > seq]:
            proof = proof_of(regulator, stored.id, size)
            assert check_inclusion(proof, vkey) == seq
            assert (proof["id"], proof["size"]) == (str(stored.id), size)
            assert proof["entry"].encode("utf-8") == bytes(stored.body)
            assert proof["checkpoint"] == Checkpoint.objects.get(size=size).note
        assert proof == by_default


def test_the_proofs_entry_is_the_exact_bytes_of_the_decision(world, api):
    body = api.verify(sign(world.cl, sub="Pérez-商户"), "CN").json()
    integrate_all()

    proof = proof_of(keyed(api.key), body["id"])

    row = Verification.objects.get(id=body["id"])
    assert proof["entry"].encode("utf-8") == expected_entry(row)
    assert "Pérez-商户" in proof["entry"]
    assert b64decode(proof["leaf_hash"]) == leaf_hash(expected_entry(row)) == b64decode(body["audit"]["leaf_hash"])
    check_inclusion(proof, vkeys()[0])


def test_a_proof_is_refused_for_a_size_no_checkpoint_has_or_too_small_for_the_entry(world, api, settings, regulator):
    sizes = grown_log(world, api, settings)
    first_of_third = entry_at(sizes[1])  # the first leaf of the third checkpoint
    url = f"{LOG}entries/{first_of_third.id}/proof"
    for query, named in [
        (f"size={sizes[0]}", f"leaf {sizes[1]} is not in the tree of size {sizes[0]}"),
        (f"size={sizes[1]}", f"leaf {sizes[1]} is not in the tree of size {sizes[1]}"),
        (f"size={sizes[-1] - 1}", f"no checkpoint of size {sizes[-1] - 1}"),
        (f"size={sizes[-1] + 1}", f"no checkpoint of size {sizes[-1] + 1}"),
        ("size=0", "size"),
        ("size=-1", "size"),
        ("size=big", "size"),
        ("size=", "size"),
        (f"size={sizes[2]}&size={sizes[2]}", "size: given more than once"),
        ("seq=1", "unknown query parameters: seq"),
    ]:
        assert named in error_of(regulator.get(f"{url}?{query}"), 400, "invalid_request"), query
    assert proof_of(regulator, first_of_third.id, sizes[2])["seq"] == sizes[1]


def test_a_proof_of_an_unknown_or_malformed_id_is_a_404(world, regulator):
    integrate_all()
    unknown = uuid.uuid4()
    assert str(unknown) in error_of(regulator.get(f"{LOG}entries/{unknown}/proof"), 404, "not_found")
    for malformed in ["not-a-uuid", str(entry_at(0).id).upper(), str(entry_at(0).id).replace("-", ""), "1"]:
        error_of(regulator.get(f"{LOG}entries/{malformed}/proof"), 404, "not_found")


def test_a_proof_before_integration_is_a_409_with_retry_after(world, api, settings):
    platform = keyed(api.key)
    integrate_all()
    decided = api.verify(sign(world.cl), "CN").json()["id"]

    pending = platform.get(f"{LOG}entries/{decided}/proof")
    assert "no signed checkpoint" in error_of(pending, 409, "not_yet_integrated")
    assert int(pending["Retry-After"]) >= 1

    # Placed in the tree, but the next checkpoint is not due yet.
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 3600}
    assert integrate_all().placed == 1
    assert LogEntry.objects.get(id=decided).seq is not None
    placed = platform.get(f"{LOG}entries/{decided}/proof")
    error_of(placed, 409, "not_yet_integrated")
    assert int(placed["Retry-After"]) >= 1
    error_of(platform.get(f"{LOG}entries/{decided}/proof?size={checkpointed_sizes()[-1]}"), 409, "not_yet_integrated")

    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 0}
    integrate_all()
    assert check_inclusion(proof_of(platform, decided), vkeys()[0]) == LogEntry.objects.get(id=decided).seq


def test_a_log_that_signed_nothing_yet_answers_a_proof_after_integrating(world, api):
    decided = api.verify(sign(world.cl), "CN").json()["id"]
    assert not Checkpoint.objects.exists()
    check_inclusion(proof_of(keyed(api.key), decided), vkeys()[0])


def test_regulators_see_every_entrys_proof_and_a_platform_only_its_own_decisions(world, api, regulator_key):
    other_key = api_key_create(name="other-shop", role="platform")[1]
    mine = api.verify(sign(world.cl), "CN").json()["id"]
    theirs = api.verify(sign(world.cl), "CN", key=other_key).json()["id"]
    integrate_all()
    change = LogEntry.objects.filter(kind="change").order_by("seq").first().id
    everything = [mine, theirs, change]
    vkey = vkeys()[0]

    for who in [keyed(regulator_key), session(world.rita), session(world.root)]:
        for entry_id in everything:
            assert proof_of(who, entry_id)["id"] == str(entry_id)
    platform = keyed(api.key)
    check_inclusion(proof_of(platform, mine), vkey)
    check_inclusion(proof_of(keyed(other_key), theirs), vkey)
    unknown = uuid.uuid4()
    for entry_id in [theirs, change, unknown]:
        detail = error_of(platform.get(f"{LOG}entries/{entry_id}/proof"), 404, "not_found")
        # Another's decision and a change look exactly like an unknown id.
        assert detail == f"no log entry {entry_id} this caller may see"
    for entry_id in everything:  # a country administrator has no API key's decisions
        error_of(session(world.alice).get(f"{LOG}entries/{entry_id}/proof"), 404, "not_found")


def test_a_proof_needs_a_key_and_refuses_a_wrong_one(world, api):
    mine = api.verify(sign(world.cl), "CN").json()["id"]
    integrate_all()
    url = f"{LOG}entries/{mine}/proof"
    error_of(APIClient().get(url), 401, "not_authenticated")
    error_of(APIClient().get(url + "?size=nonsense"), 401, "not_authenticated")  # before the query is read
    refused = APIClient().get(url, HTTP_AUTHORIZATION=UNKNOWN_KEY)
    error_of(refused, 401, "authentication_failed")
    assert refused["WWW-Authenticate"] == "Api-Key"
    error_of(APIClient().get(f"{LOG}entries/{uuid.uuid4()}/proof"), 401, "not_authenticated")


def test_a_proof_is_private_to_its_caller(world, regulator):
    integrate_all()
    response = regulator.get(f"{LOG}entries/{entry_at(0).id}/proof")
    cache = directives(response["Cache-Control"])
    assert "private" in cache and "public" not in cache


# GET tile/... -------------------------------------------------------------------------------


def expected_tile(leaves: list[bytes], level: int, index: int, width: int) -> bytes:
    """The `width` hashes of tile (level, index), from the leaves alone:
    a hash at level L is the root of 256**L consecutive leaves."""
    span = tree.TILE_WIDTH**level
    first = index * tree.TILE_WIDTH
    return b"".join(tree.root_of(leaves[n * span : (n + 1) * span]) for n in range(first, first + width))


def test_hash_tiles_of_every_checkpointed_size_are_the_trees_hashes(world, api, settings):
    sizes = grown_log(world, api, settings)
    leaves = stored_leaves()
    assert [tree.tile_path(*tile) for tile in tiles_of(sizes[-1])] == [
        "tile/0/000",
        "tile/0/001",
        f"tile/0/002.p/{sizes[-1] - 512}",
        "tile/1/000.p/2",
    ]

    for size in sizes:
        for level, index, width in tiles_of(size):
            response = APIClient().get(f"{LOG}{tree.tile_path(level, index, width)}")
            assert response.status_code == 200, (size, level, index, width)
            assert response["Content-Type"] == "application/octet-stream"
            assert response.content == expected_tile(leaves, level, index, width), (size, level, index, width)
            cache = directives(response["Cache-Control"])
            assert "public" in cache and "immutable" in cache and int(cache["max-age"]) >= 86400


def test_tiles_beyond_the_latest_checkpoint_malformed_or_absent_are_404(world, api, settings):
    sizes = grown_log(world, api, settings)
    size = sizes[-1]
    last, have = divmod(size, tree.TILE_WIDTH)
    beyond = [
        tree.tile_path(0, last + 1),
        tree.tile_path(0, last + 1, 1),
        tree.tile_path(0, last),  # the full tile of the partial one
        tree.tile_path(0, last, have + 1),
        "tile/1/000",
        "tile/1/000.p/3",
        "tile/1/001.p/1",
        "tile/2/000.p/1",
        "tile/63/000.p/1",
        "tile/0/x001/000",
    ]
    malformed = [
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/00/000",
        "tile/01/000",
        "tile/0/1000",
        "tile/0/001000",
        "tile/0/x000/001",
        "tile/0/001/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/0/000.p",
        "tile/0/000.p/",
        "tile/0/000/",
        "tile/0",
        "tile/64/000.p/1",
        "tile/-1/000",
        "tile/0/000.P/5",
        "tile/8/0/000",
        "tile/entries",
        "tile/data/000",
    ]
    for path in beyond + malformed:
        error_of(APIClient().get(f"{LOG}{path}"), 404, "not_found")


def test_tiles_grown_past_the_latest_checkpoint_are_served_only_as_far_as_it(world, settings):
    size = integrate_all().size
    settings.AUDIT_LOG = {**settings.AUDIT_LOG, "CHECKPOINT_SECONDS": 3600}
    record_decisions([entry()] * 5, at=timezone.now())
    assert integrate_all().placed == 5
    assert len(LogTile.objects.get(level=0, index=0).hashes) == (size + 5) * tree.HASH_SIZE

    assert APIClient().get(f"{LOG}tile/0/000.p/{size}").status_code == 200
    error_of(APIClient().get(f"{LOG}tile/0/000.p/{size + 1}"), 404, "not_found")
    error_of(APIClient().get(f"{LOG}consistency?first=1&second={size + 1}"), 400, "invalid_request")


def test_entry_bundles_hold_the_bytes_whose_leaf_hashes_are_the_level_0_tiles(world, api, settings, regulator):
    sizes = grown_log(world, api, settings)
    bodies = [bytes(body) for body in LogEntry.objects.order_by("seq").values_list("body", flat=True)]

    for size in sizes:
        for level, index, width in tiles_of(size):
            if level:
                continue
            response = regulator.get(f"{LOG}{tree.tile_path('entries', index, width)}")
            assert response.status_code == 200, (size, index, width)
            assert response["Content-Type"] == "application/octet-stream"
            served = entry_bundle(response.content)
            assert served == bodies[index * tree.TILE_WIDTH : index * tree.TILE_WIDTH + width]
            hashes = APIClient().get(f"{LOG}{tree.tile_path(0, index, width)}").content
            assert b"".join(leaf_hash(body) for body in served) == hashes
            assert "private" in directives(response["Cache-Control"])
    assert session(world.root).get(f"{LOG}tile/entries/000").status_code == 200
    error_of(regulator.get(f"{LOG}tile/entries/{sizes[-1] // tree.TILE_WIDTH:03d}"), 404, "not_found")
    for malformed in ["", "0", "0000", "000.p/0", "000.p/256", "x000/000", "000.p", "000/"]:
        error_of(regulator.get(f"{LOG}tile/entries/{malformed}"), 404, "not_found")


def test_entry_bundles_are_for_regulators_only(world, api):
    integrate_all()
    path = f"{LOG}tile/entries/000.p/1"
    assert "regulators" in error_of(keyed(api.key).get(path), 403, "forbidden")
    error_of(session(world.alice).get(path), 403, "forbidden")
    error_of(APIClient().get(path), 401, "not_authenticated")
    error_of(APIClient().get(path, HTTP_AUTHORIZATION=UNKNOWN_KEY), 401, "authentication_failed")
    error_of(APIClient().get(f"{LOG}tile/entries/999.p/1"), 401, "not_authenticated")  # before anything is read


# The answer's audit member ------------------------------------------------------------------


def receipt_payload(receipt: str, vkey: str) -> dict:
    """The receipt verifies with the published key (jwcrypto, not our code)."""
    public = base64.b64decode(vkey.split("+", 2)[2])[1:]
    key = jwk.JWK(kty="OKP", crv="Ed25519", x=base64.urlsafe_b64encode(public).rstrip(b"=").decode())
    token = jws.JWS()
    token.deserialize(receipt)
    token.verify(key, alg="EdDSA")
    header = token.jose_header
    assert header == {"alg": "EdDSA", "typ": "audit-receipt+jwt", "kid": vkey.split("+", 2)[1]}
    return json.loads(token.payload)


def test_the_answers_receipt_verifies_with_the_log_key_and_turns_into_a_proof(world, api, settings):
    body = api.verify(sign(world.cl), "CN", "CL").json()
    audit = body["audit"]
    row = Verification.objects.get()
    assert set(audit) == {"id", "leaf_hash", "receipt"} and audit["id"] == body["id"] == str(row.id)
    assert audit == audit_of(row, audit)
    vkey = vkeys()[0]
    payload = receipt_payload(audit["receipt"], vkey)
    assert set(payload) == {"iss", "id", "leaf_hash", "iat"}
    assert (payload["iss"], payload["id"], payload["leaf_hash"]) == (
        settings.AUDIT_LOG["ORIGIN"],
        audit["id"],
        audit["leaf_hash"],
    )
    assert isinstance(payload["iat"], int) and abs(payload["iat"] - time.time()) < 60

    integrate_all()
    proof = proof_of(keyed(api.key), payload["id"])

    assert check_inclusion(proof, vkey) == LogEntry.objects.get(id=row.id).seq
    assert proof["leaf_hash"] == payload["leaf_hash"]
    assert opened(proof["checkpoint"], vkey)[0] == proof["size"]
    assert proof["checkpoint"].split("\n")[0] == payload["iss"]


def test_each_answer_of_a_batch_carries_its_own_receipt_and_proof(world, api):
    items = [{"token": sign(world.cl), "destination": "CN"}, {"token": "garbage", "destination": "CL"}]
    results = api.post(BATCH_URL, {"items": items}).json()["results"]
    integrate_all()
    vkey = vkeys()[0]
    seqs = set()
    for result in results:
        payload = receipt_payload(result["audit"]["receipt"], vkey)
        assert payload["id"] == result["id"] == result["audit"]["id"]
        proof = proof_of(keyed(api.key), payload["id"])
        assert proof["leaf_hash"] == payload["leaf_hash"] == result["audit"]["leaf_hash"]
        seqs.add(check_inclusion(proof, vkey))
    assert len(seqs) == 2
