"""Cache files are data this machine wrote: each one sealed with a key that stays on the machine.

A cache folder can come from elsewhere (a CI cache shared between jobs, an
archive, a checkout), so its files are input, never trusted. Every file the
cache writes carries an HMAC-SHA256 tag over its bytes; a file whose tag
does not match this machine's key is treated as missing: the build parses
and renders again what it held, and never loads (let alone runs) its bytes.

The key is made once per user, in `$XDG_CACHE_HOME/newsdigest/cache-key`
(`~/.cache/...`), readable by the user alone. CI jobs that share a cache
between machines set the same secret in `DIGEST_CACHE_KEY` instead.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import io
import os
import pickle
import secrets
import zoneinfo
from pathlib import Path
from typing import Any

TAG = 32  # bytes of the tag before the sealed data
# What unpickling damaged (or foreign) data may raise: such data reads as missing.
DAMAGED = (
    pickle.PickleError,
    EOFError,
    AttributeError,
    TypeError,
    ValueError,
    IndexError,
    ImportError,
    KeyError,
)
KEY_ENV = "DIGEST_CACHE_KEY"


def seal(data: bytes) -> bytes:
    """`data` with its tag in front."""
    return _tag(data) + data


def unseal(blob: bytes) -> bytes | None:
    """The data of a sealed `blob`, or None if this machine's key did not seal it."""
    data = blob[TAG:]
    return data if len(blob) >= TAG and hmac.compare_digest(blob[:TAG], _tag(data)) else None


def _tag(data: bytes) -> bytes:
    return hmac.digest(key(), data, "sha256")  # 1.4 times BLAKE2b's speed where CPUs have SHA instructions


@functools.cache
def key() -> bytes:
    """This machine's cache key: from DIGEST_CACHE_KEY, else the user's key file, made if missing."""
    given = os.environ.get(KEY_ENV)
    if given:
        return hashlib.blake2b(given.encode("utf-8"), digest_size=32).digest()
    path = key_file()
    try:
        found = path.read_bytes()
        if len(found) == 32:
            return found
    except OSError:
        pass
    made = secrets.token_bytes(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(made)
        os.link(temporary, path)  # fails if another process made the key first: then theirs is used
    except FileExistsError:
        made = path.read_bytes()
    except OSError:
        pass  # nowhere to keep it: this run's cache files are good for this run only
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return made


def key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsdigest" / "cache-key"


def loads(data: bytes) -> Any:
    """Unpickle sealed cache data, able to make only the generator's own classes and a few plain
    types: a second wall, should a sealed file ever hold what this machine did not write."""
    return _Unpickler(io.BytesIO(data)).load()


_PLAIN = {
    ("builtins", "frozenset"), ("builtins", "set"), ("datetime", "datetime"), ("datetime", "date"),
    ("datetime", "timezone"), ("datetime", "timedelta"), ("zoneinfo", "ZoneInfo"),
    ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"), ("pathlib", "WindowsPath"),
    ("pathlib", "PureWindowsPath"),
}  # fmt: skip
_OURS = {
    ("generator.base.errors", "_location"),
    ("generator.base.model", "_article"),
    ("generator.incremental.keptplan", "_proxy"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _getattr
        if (module, name) in _PLAIN or (module, name) in _OURS:
            return super().find_class(module, name)
        if module.startswith("generator.") and name.isidentifier() and not name.startswith("_"):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found  # one of the generator's own data classes
        raise pickle.UnpicklingError(f"the cache may not hold {module}.{name}")


def _getattr(owner: object, name: str) -> Any:
    """`getattr` as pickle uses it for a class method; here only for a time zone's."""
    if owner is zoneinfo.ZoneInfo and name == "_unpickle":
        return zoneinfo.ZoneInfo._unpickle  # type: ignore[attr-defined]
    raise pickle.UnpicklingError(f"the cache may not hold {owner!r}.{name}")
