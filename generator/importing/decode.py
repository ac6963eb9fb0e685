"""Bytes to text for `digest import`: whatever encoding a file or page is in, and how we know.

The order is the one browsers use (the HTML standard's "encoding sniffing"): a byte order
mark, then the charset the server declared, then (for HTML) a `<meta charset>` near the top.
Without any of these, UTF-8 is tried, then charset-normalizer guesses from the bytes. A
declared charset that does not decode the bytes is reported and the guess is used instead.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Python's names for encodings, as people (and the HTML standard) call them.
_LABELS = {"utf_8": "UTF-8", "utf_8_sig": "UTF-8", "utf_16": "UTF-16"}


class UnknownEncoding(ValueError):
    """The bytes are in no encoding that could be told or guessed."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # its common name: UTF-8, windows-1251, KOI8-R ...
    how: str  # "declared by the server", "byte order mark", "<meta charset>", "detected" ...
    note: str = ""  # a declared charset that was wrong, when there was one

    def describe(self) -> str:
        """'read as windows-1251 (detected)', with the note when there is one."""
        text = f"read as {self.encoding} ({self.how})"
        return f"{text}; {self.note}" if self.note else text


def decode(data: bytes, declared: str = "", html: bool = False) -> Decoded:
    """The text of `data`; raises `UnknownEncoding` when no encoding can be found."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(encoding, errors="replace"), label(encoding), "byte order mark")
    notes: list[str] = []
    candidates = [(declared, "declared by the server")]
    if html:
        found = _META_CHARSET.search(data[:4096])
        candidates.append((found.group(1).decode("ascii") if found else "", "<meta charset>"))
    for name, how in candidates:
        if not name:
            continue
        try:
            return Decoded(data.decode(_codec(name)), label(name), how, "; ".join(notes))
        except LookupError:
            notes.append(f"the unknown charset {name!r} ({how}) was ignored")
        except UnicodeDecodeError:
            notes.append(f"the charset {name!r} ({how}) does not fit the bytes")
    try:
        return Decoded(data.decode("utf-8"), "UTF-8", "detected", "; ".join(notes))
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnknownEncoding("the encoding of the text cannot be told (it may not be text at all)")
    return Decoded(str(best), label(best.encoding), "detected", "; ".join(notes))


def label(name: str) -> str:
    """The common name of an encoding: 'cp1251' -> 'windows-1251', 'koi8_r' -> 'KOI8-R'."""
    try:
        python = codecs.lookup(_codec(name)).name.replace("-", "_")
    except LookupError:
        return name
    if python in _LABELS:
        return _LABELS[python]
    if python.startswith("cp125"):
        return "windows-" + python[2:]
    return python.replace("_", "-").upper() if python.startswith(("koi8", "iso8859")) else python


def _codec(name: str) -> str:
    """Python's codec for a label; the HTML standard reads latin-1 and ASCII as windows-1252."""
    lowered = name.strip().lower()
    return "cp1252" if lowered in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii") else lowered
