"""Starting a witness from its command-line inputs, refusing what would make
it forget what it cosigned: a key without its state, a state of another key
or a damaged one (witness/state.py). Nothing is written until every check
has passed: a new key file and a new state file are the last steps.
"""

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from recognition.log.notes import COSIGNATURE_V1, NoteError, key_id, vkey
from witness.keys import KeyFileError, create_key, read_key
from witness.server import Witness, trusted_logs
from witness.state import State, StateError


class StartError(Exception):
    """The witness cannot start; the message says why, in one line."""


@dataclass(frozen=True)
class Started:
    witness: Witness
    created_key: bool
    moved_state: str | None  # where --reset-state moved the old state file


def start(*, name: str, key: Path, state: Path, logs: list[str], reset: bool) -> Started:
    try:
        trusted = trusted_logs(logs)
    except NoteError as exc:
        raise StartError(f"--log: {exc}") from None
    try:
        private_key = read_key(key)
        created = private_key is None
        private_key = private_key or Ed25519PrivateKey.generate()
        public = private_key.public_key().public_bytes_raw()
        witness_vkey = vkey(name, public, COSIGNATURE_V1)
        if created and not reset and state.exists():
            raise StartError(
                f"key file {key} does not exist but state file {state} does: it belongs to a lost key; "
                "`--reset-state` starts afresh with a new key, forgetting what the old one cosigned"
            )
        if created:
            create_key(key, private_key)
        opened, moved = State.open(
            state,
            key_id=key_id(name, COSIGNATURE_V1, public).hex(),
            vkey=witness_vkey,
            may_create=created,
            reset=reset,
        )
    except NoteError as exc:
        raise StartError(f"--name: {exc}") from None
    except (KeyFileError, StateError) as exc:
        raise StartError(str(exc)) from None
    return Started(Witness(name=name, private_key=private_key, logs=trusted, state=opened), created, moved)
