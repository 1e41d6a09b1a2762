"""Which code is running: a digest of the package's source, templates and
translations, for the keys of what is kept in a cache shared by every process
(Redis). A page rendered by one release is never served by another: after a
deploy, the new code starts from an empty namespace instead of reading frames,
grids and pickled rows that the old templates and models wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path

SUFFIXES = (".py", ".html", ".txt", ".mo")


def code_digest(root: Path) -> str:
    """A short digest of every file under `root` that shapes what is cached
    (Python, templates, compiled translations), by relative path and content."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        if "__pycache__" in path.parts or "tests" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
