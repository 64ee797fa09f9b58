"""The "package" variant of the in-process rounds: a token verified by the
verifier package platforms install (merchant_verifier.Verifier), offline,
from the registry's own lists written to a directory beforehand, as
`merchant-verify save-lists` writes them (verifier/src/merchant_verifier/
lists.py: the layout). Each destination has its verifier; every list is
read, checked and decoded before the clock starts, so the hot path is what a
platform's is: no network, no file, no list signature.
"""

from pathlib import Path
from typing import Any


def save_lists(directory: Path, countries: set[str], origins: set[str]) -> None:
    import json

    from recognition.services.registry_keys import published_keys
    from recognition.services.status_lists import merchant_status_token
    from recognition.services.trust_lists import trust_list_jws

    (directory / "trust-lists").mkdir(parents=True, exist_ok=True)
    (directory / "merchant-status").mkdir(exist_ok=True)
    for country in sorted(countries):
        (directory / "trust-lists" / f"{country}.jwt").write_text(trust_list_jws(country))
    for country in sorted(origins):
        (directory / "merchant-status" / f"{country}.jwt").write_bytes(merchant_status_token(country).token)
    (directory / "jwks.json").write_text(json.dumps({"keys": published_keys()}))


def verifiers(directory: Path, tokens: list[Any]) -> dict[str, Any]:
    """destination -> an offline Verifier of the lists saved in `directory`,
    each warmed with every token it will see (lists loaded and decoded)."""
    from merchant_verifier import Verifier

    made = {}
    for token in tokens:
        verifier = made.get(token.destination)
        if verifier is None:
            verifier = made[token.destination] = Verifier(
                "http://unused.invalid", token.destination, cache_dir=directory, offline=True
            )
        answer = verifier.verify(token.token)
        if not answer.accepted:
            raise RuntimeError(f"the package refuses a bench token: {answer.reasons}")
    return made
