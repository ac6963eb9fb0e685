"""Stable hashes of text and bytes, for the keys of cached work and the ids of parsed files.

A neutral helper: the content stage (source hashes), the keys layer and the
search stage use it, and none of them needs the others for it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


def stable_hash(*parts: str | bytes) -> str:
    """A short hash of the parts that is the same in every process and every run."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def file_hash(path: Path) -> str:
    """`stable_hash` of a file's bytes ('' if it cannot be read)."""
    try:
        return stable_hash(path.read_bytes())
    except OSError:
        return ""


@functools.cache
def code_key() -> str:
    """newsdigest's version and a hash of its own code, in every key of cached work: a build by
    other code (an upgrade, a checkout of another commit with the same version) makes it again.
    About 80 files, read once per process (2 ms)."""
    import generator

    package = Path(generator.__file__).parent
    parts: list[str | bytes] = [generator.__version__]
    for path in sorted(package.rglob("*.py")):
        parts += [path.relative_to(package).as_posix(), path.read_bytes()]
    return stable_hash(*parts)
