"""The hand-written check of a well-formed request body
(recognition/api/serializers.py) against the DRF serializers it stands in
front of: whenever it answers, the serializer accepts the same body and
makes the same requests of it; for everything else the serializer answers
(and words the 400)."""

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

import recognition.api.verifications  # noqa: F401 (DRF's settings import the parser from serializers)
from recognition.api.serializers import (
    MAX_BATCH,
    BatchRequestSerializer,
    VerificationRequestSerializer,
    well_formed_batch,
    well_formed_request,
)
from recognition.services.verification import VerificationRequest
from tests.support.strategies import PHASES

CODES = ["CN", "CL", "KZ", "cn", "C", "CNN", "", " CN", "XX", "ZZ", "\x00", "\ud800"]
values = (
    st.sampled_from(CODES)
    | st.text(max_size=10)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.lists(st.text(max_size=3), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2)
)
members = st.sampled_from(["token", "destination", "origin", "Token", "extra", "items"])
bodies = st.dictionaries(members, values, max_size=4) | values
well_formed = st.fixed_dictionaries(
    {"token": st.text(max_size=30), "destination": st.sampled_from(["CN", "CL", "KZ"])},
    optional={"origin": st.sampled_from(["CN", "CL", None])},
)


def fields_say(serializer_class: type, data) -> dict | None:
    """What the serializer's fields make of `data` (the fast path bypassed)."""
    serializer = serializer_class(data=data)
    try:
        return super(serializer_class, serializer).run_validation(data)
    except ValidationError:
        return None


@settings(max_examples=2000, deadline=None, database=None, phases=PHASES)
@given(data=bodies | well_formed)
def test_a_request_is_what_the_serializer_makes_of_it(data):
    fast = well_formed_request(data)
    if fast is not None:
        assert fields_say(VerificationRequestSerializer, data) == fast


@settings(max_examples=300, deadline=None, database=None, phases=PHASES)
@given(data=well_formed)
def test_well_formed_requests_take_the_fast_path(data):
    assert well_formed_request(data) == fields_say(VerificationRequestSerializer, data) is not None
    serializer = VerificationRequestSerializer(data=data)
    assert serializer.is_valid()
    assert VerificationRequestSerializer.to_request(serializer.validated_data) == VerificationRequest(
        data["token"], data["destination"], data.get("origin")
    )


@settings(max_examples=500, deadline=None, database=None, phases=PHASES)
@given(
    data=st.fixed_dictionaries({"items": st.lists(well_formed | bodies, max_size=4)})
    | st.fixed_dictionaries({"items": st.lists(well_formed, min_size=1, max_size=3)}, optional={"extra": values})
    | bodies
)
def test_a_batch_is_what_the_serializer_makes_of_it(data):
    fast = well_formed_batch(data)
    if fast is not None:
        assert fields_say(BatchRequestSerializer, data) == fast
        serializer = BatchRequestSerializer(data=data)
        assert serializer.is_valid(), serializer.errors


def test_batch_sizes_at_and_beyond_the_limit():
    item = {"token": "t", "destination": "CN"}
    assert len(well_formed_batch({"items": [item] * MAX_BATCH})["items"]) == MAX_BATCH
    assert well_formed_batch({"items": [item] * (MAX_BATCH + 1)}) is None
    assert well_formed_batch({"items": []}) is None
