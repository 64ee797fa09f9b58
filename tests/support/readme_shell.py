"""The README's shell transcripts, run as written: a section's code blocks
read as `$ command` lines (continued while a line ends with `\\`) and the
output shown under each, and a matcher of that output in which what the
README elides with `…`, or says differs on every run, matches anything."""

import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

# What the README elides (a word glued to `…`), and what it says differs on
# every run where it shows it whole: ids and jti (UUIDs), and expiry instants.
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
_VARIABLE = re.compile(rf"(?P<elided>[\w=+/.-]*…[\w=+/.-]*)|(?P<uuid>{_UUID})|(?<=expires )(?P<instant>{_INSTANT})")
_STANDS_FOR = {"elided": ".*?", "uuid": _UUID, "instant": _INSTANT}


@dataclass(frozen=True)
class Step:
    command: str
    shown: list[str]  # the output lines the README shows, continuation lines joined

    @property
    def is_comment(self) -> bool:
        return self.command.startswith("#")


def section(readme: str, heading: str) -> str:
    return readme.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def steps(text: str) -> list[Step]:
    """Every `$ ` command of the section's ``` blocks, in order, with the output shown under it."""
    found: list[Step] = []
    for block in re.findall(r"^```\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ "), f"not a command: {lines[i]!r}"
            command = [lines[i][2:]]
            while command[-1].endswith("\\"):
                i += 1
                command.append(lines[i])
            i += 1
            shown: list[str] = []
            while i < len(lines) and not lines[i].startswith("$ "):
                if lines[i][:1].isspace() and shown:
                    shown[-1] += "\n" + lines[i]  # a wrapped line of the same output line
                else:
                    shown.append(lines[i])
                i += 1
            found.append(Step("\n".join(command), shown))
    return found


def pattern(shown_line: str) -> re.Pattern:
    """A shown output line as a regular expression: elisions and the instants
    that differ on every run match anything; a wrap may stand for a space."""
    parts = []
    for piece in re.split(r"\n\s*", shown_line):
        regex, end = "", 0
        for found in _VARIABLE.finditer(piece):
            regex += re.escape(piece[end : found.start()]) + _STANDS_FOR[found.lastgroup]
            end = found.end()
        parts.append(regex + re.escape(piece[end:]))
    return re.compile(r"\s?".join(parts))


def assert_shown(step: Step, actual: str) -> None:
    """Each shown line appears in the actual output, in order."""
    position = 0
    text = actual.replace("\r\n", "\n")
    for line in step.shown:
        found = pattern(line).search(text, position)
        assert found, f"`{step.command}` did not print {line!r}; it printed:\n{text}"
        position = found.end()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with status {process.returncode}"
        try:
            with urlopen(url, timeout=2):  # noqa: S310 (a loopback URL the test made)
                return
        except HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within {timeout} s")


def curl_home(home: Path, port: int) -> Path:
    """A HOME whose ~/.curlrc sends curl's connections to 127.0.0.1:8000 (the
    README's address) to `port`, leaving the URL and its Host header as written."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".curlrc").write_text(f"connect-to = 127.0.0.1:8000:127.0.0.1:{port}\n")
    return home
