"""TRQP identifiers (recognition/trqp/identifiers.py): W3C DID Core §3.1
syntax, https URLs, and the did:web alias of a country's `authority_id`."""

import pytest

from recognition.trqp.identifiers import UnknownAuthority, country_alias, country_of, is_did, is_identifier

DIDS = [
    "did:example:ecosystem",
    "did:example:entity123",
    "did:web:registry.example:cn",
    "did:web:registry.example%3A8443:cn",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:example::x",  # empty segments are allowed before the last
    "did:a1:_.-",
]
NOT_DIDS = [
    "did:example:",  # the id ends with a character, never ':'
    "did:example",
    "did::x",
    "did:Example:x",  # method names are lower case
    "DID:example:x",
    "did:ex ample:x",
    "did:example:x y",
    "did:example:x/path",  # a DID URL, not a DID
    "did:example:x?q=1",
    "did:example:x#frag",
    "did:example:%zz",
    "did:example:x\n",
    "did:example:ü",
]


@pytest.mark.parametrize("value", DIDS)
def test_well_formed_dids(value):
    assert is_did(value) and is_identifier(value)


@pytest.mark.parametrize("value", NOT_DIDS)
def test_malformed_dids(value):
    assert not is_did(value) and not is_identifier(value)


@pytest.mark.parametrize("value", ["https://registry.example", "https://x.test/issuer", "https://x.test:8443/a?b#c"])
def test_https_urls_are_identifiers(value):
    assert is_identifier(value)


@pytest.mark.parametrize(
    "value",
    ["http://x.test/issuer", "https://", "https:///x", "https://x.test/a b", "https://x.test:99999/", "ftp://x"],
)
def test_other_urls_are_not_identifiers(value):
    assert not is_identifier(value)


def test_the_alias_follows_the_registry_host_and_port(settings):
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://Registry.Example"}
    assert country_alias("CN") == "did:web:registry.example:cn"
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://registry.example:8443/trqp"}
    assert country_alias("CL") == "did:web:registry.example%3A8443:cl"
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://[::1]:8443"}
    assert country_alias("CL") is None


def test_country_of(settings):
    settings.REGISTRY = {**settings.REGISTRY, "ISSUER": "https://registry.example"}
    assert country_of("CN") == "CN"
    assert country_of("did:web:registry.example:cn") == "CN"
    assert country_of("did:web:REGISTRY.EXAMPLE:cl") == "CL"
    for unknown in ["did:web:registry.example:CN", "did:web:registry.example:xx", "DID:WEB:registry.example:cn"]:
        with pytest.raises(UnknownAuthority):
            country_of(unknown)
