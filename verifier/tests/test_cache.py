"""The lists a verifier holds (src/merchant_verifier/lists.py): fetched once
and decoded once, refreshed after their ttl with conditional requests, kept
when the registry is down until their `exp` and then failing closed, kept on
disk, and read from a directory alone in offline mode."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from registry_double import TTL, etag_of, public_jwk

from merchant_verifier import Verifier
from merchant_verifier.status_list import INVALID

LISTS = ["/api/v1/trust-lists/CN/", "/api/v1/merchant-status/CL/", "/api/v1/status-lists/1/"]


class NoNetwork:
    """An opener that fails the test if anything is fetched."""

    def open(self, request, timeout):
        raise AssertionError(f"offline mode fetched {request.full_url}")


def test_lists_are_fetched_once_while_fresh(verifier, registry, clock):
    for _ in range(5):
        assert verifier.verify(registry.credential(status_index=1)).accepted
        clock.advance(seconds=50)
    assert registry.paths() == [LISTS[0], "/.well-known/jwks.json", *LISTS[1:]]


def test_a_stale_list_is_revalidated_with_its_etag_and_a_304_keeps_it(verifier, registry, clock):
    verifier.verify(registry.credential(status_index=1))
    served = {path: registry.documents[path].body for path in LISTS}
    registry.requests.clear()
    clock.advance(seconds=TTL + 1)
    assert verifier.verify(registry.credential(status_index=1)).accepted
    assert sorted(registry.requests) == sorted((path, etag_of(served[path])) for path in LISTS)
    # The copy kept is the one held (a 304 carries no body).
    assert verifier.lists._held["trust-lists/CN.jwt"].signed.raw == served[LISTS[0]]
    registry.requests.clear()
    clock.advance(seconds=TTL - 1)
    verifier.verify(registry.credential(status_index=1))
    assert registry.requests == []  # fresh again for a ttl after the 304


def test_a_changed_list_is_taken_after_its_ttl(verifier, registry, clock):
    assert verifier.verify(registry.credential(status_index=4)).accepted
    registry.set_status(4, INVALID)
    clock.advance(seconds=TTL - 10)
    assert verifier.verify(registry.credential(status_index=4)).accepted  # within the ttl: the copy held
    clock.advance(seconds=11)
    registry.set_status(4, INVALID)  # signed now
    assert verifier.verify(registry.credential(status_index=4)).codes == ["credential_revoked"]


def test_a_trust_list_without_max_age_is_fresh_for_half_its_lifetime(verifier, registry, clock):
    registry.documents[LISTS[0]].headers.pop("Cache-Control")
    verifier.verify(registry.credential(issuer="https://samr.example.cn/registry"))
    registry.requests.clear()
    clock.advance(hours=11, minutes=59)
    for path in ("/api/v1/merchant-status/CN/",):
        registry.serve(path, registry.sign(registry.merchant_status_payload("CN"), "merchant-status+jwt"))
    verifier.verify(registry.credential(issuer="https://samr.example.cn/registry"))
    assert LISTS[0] not in registry.paths()
    clock.advance(minutes=2)
    verifier.verify(registry.credential(issuer="https://samr.example.cn/registry"))
    assert LISTS[0] in registry.paths()


def test_when_the_registry_is_down_the_lists_held_serve_until_exp_then_fail_closed(verifier, registry, clock):
    assert verifier.verify(registry.credential(status_index=1)).accepted
    registry.down = True
    clock.advance(hours=23, minutes=59)
    assert verifier.verify(registry.credential(status_index=1)).accepted
    clock.advance(minutes=1)
    answer = verifier.verify(registry.credential(status_index=1))
    assert answer.codes == ["lists_expired"]
    assert answer.reasons[0]["detail"].startswith("the trust list of CN expired and could not be refreshed: ")
    assert "answered HTTP 503" in answer.reasons[0]["detail"]
    registry.down = False
    registry.publish()
    clock.advance(seconds=31)  # a failed refresh is tried again after RETRY_SECONDS
    assert verifier.verify(registry.credential(status_index=1)).accepted


def test_a_failed_refresh_is_not_retried_on_every_token(verifier, registry, clock):
    verifier.verify(registry.credential(status_index=1))
    registry.down = True
    clock.advance(seconds=TTL + 1)
    for _ in range(20):
        verifier.verify(registry.credential(status_index=1))
    assert registry.paths().count(LISTS[0]) == 2


def test_an_older_list_than_the_one_held_is_refused_and_the_held_one_kept(verifier, registry, clock):
    old = registry.sign(registry.trust_list_payload(), "trust-list+jwt")
    clock.advance(seconds=60)
    registry.publish()
    assert verifier.verify(registry.credential()).accepted
    registry.serve(LISTS[0], old)  # a replay of an earlier list
    clock.advance(seconds=TTL + 1)
    assert verifier.verify(registry.credential()).accepted
    assert verifier.lists._held["trust-lists/CN.jwt"].signed.raw != old


def test_a_hostile_refresh_does_not_replace_a_good_list(verifier, registry, clock):
    assert verifier.verify(registry.credential()).accepted
    registry.serve(LISTS[0], registry.sign({**registry.trust_list_payload(), "sub": "HK"}, "trust-list+jwt"))
    clock.advance(seconds=TTL + 1)
    assert verifier.verify(registry.credential()).accepted


def test_a_new_registry_key_is_fetched_when_a_list_names_it(verifier, registry, clock):
    assert verifier.verify(registry.credential()).accepted
    registry.key, registry.kid, registry.alg = ed25519.Ed25519PrivateKey.generate(), "registry-2", "EdDSA"
    registry.jwks_keys.insert(0, public_jwk(registry.key, "registry-2", "EdDSA"))
    clock.advance(seconds=TTL + 1)
    registry.publish()
    assert verifier.verify(registry.credential()).accepted
    assert registry.paths().count("/.well-known/jwks.json") == 2
    assert verifier.lists._held["trust-lists/CN.jwt"].signed.raw == registry.documents[LISTS[0]].body


def test_the_cache_directory_survives_a_restart_while_the_registry_is_down(make_verifier, registry, tmp_path, clock):
    assert make_verifier(cache_dir=tmp_path).verify(registry.credential(status_index=1)).accepted
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "jwks.json", "jwks.json.etag", "merchant-status/CL.jwt", "merchant-status/CL.jwt.etag",
        "status-lists/1.jwt", "status-lists/1.jwt.etag", "trust-lists/CN.jwt", "trust-lists/CN.jwt.etag",
    ]  # fmt: skip
    registry.down = True
    restarted = make_verifier(cache_dir=tmp_path)
    assert restarted.verify(registry.credential(status_index=1)).accepted
    registry.down = False
    registry.requests.clear()
    restarted = make_verifier(cache_dir=tmp_path)
    assert restarted.verify(registry.credential(status_index=1)).accepted
    assert all(etag is not None for _, etag in registry.requests if _ in LISTS)  # revalidated, not fetched whole


def test_offline_mode_reads_the_saved_lists_and_never_the_network(verifier, registry, tmp_path, clock):
    verifier.prefetch()
    written = verifier.save(tmp_path)
    assert written == [
        "jwks.json", "merchant-status/CL.jwt", "merchant-status/CN.jwt", "status-lists/1.jwt", "trust-lists/CN.jwt"
    ]  # fmt: skip
    assert registry.paths()[-1] == "/api/v1/status-lists/2/"  # prefetch stopped at the first 404
    registry.set_status(8, INVALID)  # after the save: unknown offline
    offline = Verifier("http://unused.invalid", "CN", cache_dir=tmp_path, offline=True, clock=clock, opener=NoNetwork())
    clock.advance(hours=12)
    assert offline.verify(registry.credential(status_index=8), origin="CL").accepted
    registry.list_merchant("76.123.456-7", "revoked")
    assert offline.verify(registry.credential(issuer="https://samr.example.cn/registry")).accepted
    clock.advance(hours=12)  # the lists' exp
    answer = offline.verify(registry.credential(status_index=8))
    assert answer.codes == ["lists_expired"]
    assert answer.reasons[0]["detail"] == "the trust list of CN expired and could not be refreshed"


def test_offline_mode_refuses_a_list_it_does_not_have_or_that_was_tampered_with(verifier, registry, tmp_path, clock):
    verifier.verify(registry.credential())
    verifier.save(tmp_path)
    offline = Verifier("http://unused.invalid", "CN", cache_dir=tmp_path, offline=True, clock=clock, opener=NoNetwork())
    answer = offline.verify(registry.credential(status_index=1))
    assert answer.codes == ["lists_unavailable"]
    assert answer.reasons[0]["detail"] == f"status list 1 is not in {tmp_path}"
    header, payload, signature = (tmp_path / "trust-lists/CN.jwt").read_text().split(".")
    claims = json.loads(_b64decode(payload))
    claims["authorities"][1]["max_assurance"] = "high"
    (tmp_path / "trust-lists/CN.jwt").write_text(f"{header}.{_b64encode(json.dumps(claims))}.{signature}")
    offline = Verifier("http://unused.invalid", "CN", cache_dir=tmp_path, offline=True, clock=clock, opener=NoNetwork())
    answer = offline.verify(registry.credential())
    assert answer.codes == ["lists_unavailable"]
    assert answer.reasons[0]["detail"] == "the trust list of CN: the signature does not verify with key registry-1"


def test_offline_mode_without_a_directory_is_refused():
    with pytest.raises(ValueError, match="give cache_dir"):
        Verifier("http://unused.invalid", "CN", offline=True)


def test_merchant_status_is_per_authority(verifier, registry):
    registry.revoked_credentials.append(
        {"issuer": "https://other.example.cl/registry", "jti": "credential-1", "status": "revoked"}
    )
    registry.publish()
    assert verifier.verify(registry.credential()).accepted
    assert verifier.lists._held["merchant-status/CL.jwt"].content.credentials  # listed, for another authority


def _b64decode(segment):
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(text):
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
