"""The README's pictures (README, Proposals: a second administrator
approves) are committed PNGs, small enough to read on a slow line; the
browser test writes them again with E2E_README_IMAGES=1."""

import re
from pathlib import Path

from django.conf import settings

README = Path(settings.BASE_DIR) / "README.md"
MAX_BYTES = 300_000


def test_every_picture_the_readme_shows_is_a_committed_small_png():
    pictures = re.findall(r"!\[[^\]]+\]\((docs/images/[^)]+)\)", README.read_text(encoding="utf-8"))
    assert len(pictures) >= 2
    for name in pictures:
        path = Path(settings.BASE_DIR) / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert path.stat().st_size <= MAX_BYTES, (name, path.stat().st_size)
