"""Token Status Lists: the draft's own examples, and what a hostile list
cannot do to a verifier (src/merchant_verifier/status_list.py)."""

import base64
import zlib

import pytest

from merchant_verifier.status_list import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusList,
    StatusListError,
    decode_lst,
    encode_lst,
    get_status,
    new_list,
    set_status,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_drafts_one_bit_example():
    # draft-ietf-oauth-status-list §4.1: bytes 0xB9 0xA3
    status_list = StatusList.from_claim({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    assert status_list.packed == bytes([0xB9, 0xA3])
    assert [status_list.status(i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_the_drafts_two_bit_example():
    # draft-ietf-oauth-status-list §4.1: bytes 0xC9 0x44 0xF9
    status_list = StatusList.from_claim({"bits": 2, "lst": "eNo76fITAAPfAgc"})
    assert status_list.packed == bytes([0xC9, 0x44, 0xF9])
    assert [status_list.status(i) for i in range(12)] == [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def test_set_and_get_round_trip_through_lst():
    packed = new_list(4096)
    set_status(packed, 0, INVALID)
    set_status(packed, 4095, SUSPENDED)
    set_status(packed, 1234, INVALID)
    set_status(packed, 1234, VALID)
    decoded = decode_lst(encode_lst(packed))
    assert get_status(decoded, 0) == INVALID
    assert get_status(decoded, 4095) == SUSPENDED
    assert get_status(decoded, 1234) == VALID
    assert sum(get_status(decoded, i) != VALID for i in range(4096)) == 2


def test_setting_one_entry_leaves_its_neighbours():
    packed = new_list(8)
    for index in range(8):
        set_status(packed, index, 3)
    set_status(packed, 5, VALID)
    assert [get_status(packed, i) for i in range(8)] == [3, 3, 3, 3, 3, 0, 3, 3]


@pytest.mark.parametrize("index", [-1, 16, 10**12, True, "1", 1.0])
def test_an_index_outside_the_list_is_refused(index):
    status_list = StatusList.from_claim({"bits": 2, "lst": encode_lst(new_list(16))})
    with pytest.raises(StatusListError, match="outside the list"):
        status_list.status(index)


def test_a_list_that_inflates_beyond_the_bound_is_refused_without_inflating_it():
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError, match="inflates to more than 1048576 bytes"):
        decode_lst(_b64(bomb), max_bytes=1024 * 1024)


@pytest.mark.parametrize(
    ("lst", "message"),
    [
        (None, "non-empty string"),
        ("", "non-empty string"),
        (42, "non-empty string"),
        ("eNo76fITAAPfAgc=", "base64url"),
        ("eNo76fITAAPf+gc", "base64url"),
        ("a", "base64url"),
        (_b64(b"not zlib at all"), "not ZLIB"),
        (_b64(zlib.compress(b"\0" * 64)[:-6]), "truncated"),
        (_b64(zlib.compress(b"\0" * 64) + b"extra"), "after its ZLIB stream"),
        (_b64(zlib.compress(b"")), "no entries"),
    ],
)
def test_a_malformed_lst_is_refused_with_its_reason(lst, message):
    with pytest.raises(StatusListError, match=message):
        decode_lst(lst)


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ([], "must be an object"),
        ({"lst": "eNo76fITAAPfAgc"}, "bits"),
        ({"bits": 3, "lst": "eNo76fITAAPfAgc"}, "bits"),
        ({"bits": True, "lst": "eNo76fITAAPfAgc"}, "bits"),
        ({"bits": 2}, "lst"),
    ],
)
def test_a_malformed_status_list_claim_is_refused(claim, message):
    with pytest.raises(StatusListError, match=message):
        StatusList.from_claim(claim)


@pytest.mark.parametrize(("size", "bits"), [(0, 2), (3, 2), (7, 1), (10, 3)])
def test_a_new_list_has_whole_bytes(size, bits):
    with pytest.raises(StatusListError):
        new_list(size, bits)


def test_a_value_wider_than_the_entry_is_refused():
    with pytest.raises(StatusListError, match="between 0 and 3"):
        set_status(new_list(4), 0, 4)
