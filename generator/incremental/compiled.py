"""Compiled templates kept in the cache folder between builds, each file sealed (`seal.py`).

The render stage takes any Jinja bytecode cache; this is the one the incremental layer hands it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import jinja2

from generator.base import durable
from generator.incremental import seal


def sealed_bytecode(folder: Path) -> jinja2.BytecodeCache | None:
    """A bytecode cache in `folder`; None if the folder cannot be made (a read-only site builds without)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only site folder builds without it
    return SealedBytecodeCache(folder)


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in the build cache, each file sealed (`seal.py`): compiled code is
    only ever loaded from a file this machine wrote; any other is compiled again from the template."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = seal.unseal((self.folder / f"{bucket.key}.cache").read_bytes())
        except OSError:
            return
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a read-only cache: templates are compiled again next time
            durable.write_atomic(self.folder / f"{bucket.key}.cache", seal.seal(bucket.bytecode_to_string()))
