"""Metadata out of images published as they are (a theme's or the site's `static/` files), losslessly.

An article's images are made again (`media.py`), and so lose their metadata.
The files of a `static/` folder are copied, and a photo among them would take
its GPS position, camera and dates along. Here the segments and chunks that
hold such metadata are removed and the image data is kept byte for byte: in a
JPEG the APP1 (EXIF, XMP) and APP13 (IPTC) segments, an EXIF orientation kept
as a minimal EXIF of its own (browsers turn the image by it); in a PNG the
eXIf and text chunks; in a WebP the EXIF and XMP chunks. Anything that is not
read as such a file is given back unchanged.
"""

from __future__ import annotations

import struct

_JPEG_DROPPED = frozenset({0xE1, 0xED})  # APP1: EXIF and XMP; APP13: Photoshop's IPTC
_PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})
_WEBP_DROPPED = frozenset({b"EXIF", b"XMP "})
SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def without_metadata(data: bytes) -> bytes:
    """`data` without its metadata, if it is a JPEG, PNG or WebP file; else as it is."""
    try:
        if data[:2] == b"\xff\xd8":
            return _jpeg(data)
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return _png(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (IndexError, struct.error, ValueError):
        pass  # not laid out as its kind says: published as it is
    return data


def _jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    at = 2
    orientation = 1
    while at < len(data):
        if data[at] != 0xFF:
            raise ValueError("not a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            out.append(data[at : at + 2])
            at += 2
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan: the rest is image data
            out.append(data[at:])
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        if len(segment) < 2 + length:
            raise ValueError("truncated segment")
        if marker in _JPEG_DROPPED:
            if segment[4:10] == b"Exif\x00\x00":
                orientation = _orientation(segment[10:]) or orientation
        else:
            out.append(segment)
        at += 2 + length
    if orientation != 1:
        out.insert(1, _exif_segment(orientation))
    return b"".join(out)


def _orientation(tiff: bytes) -> int:
    """The orientation tag of an EXIF block (its TIFF header and first IFD), or 0."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return 0
    (first,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for number in range(count):
        entry = tiff[first + 2 + 12 * number : first + 14 + 12 * number]
        tag, kind, _, value = struct.unpack(order + "HHI4s", entry)
        if tag == 0x0112 and kind == 3:
            (found,) = struct.unpack(order + "H", value[:2])
            return int(found) if 1 <= found <= 8 else 0
    return 0


def _exif_segment(orientation: int) -> bytes:
    """An APP1 segment with an EXIF block that holds the orientation and nothing else."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _png(data: bytes) -> bytes:
    out = [data[:8]]
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunk = data[at : at + 12 + length]
        if len(chunk) < 12 + length:
            raise ValueError("truncated chunk")
        if kind not in _PNG_DROPPED:
            out.append(chunk)
        at += 12 + length
        if kind == b"IEND":
            break
    return b"".join(out)


def _webp(data: bytes) -> bytes:
    chunks = []
    at = 12
    while at + 8 <= len(data):
        kind = data[at : at + 4]
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        chunk = data[at : at + 8 + length + (length & 1)]
        if len(chunk) < 8 + length:
            raise ValueError("truncated chunk")
        if kind == b"VP8X":  # its flags say which chunks follow: no EXIF (0x08), no XMP (0x04)
            chunk = chunk[:8] + bytes([chunk[8] & ~0x0C]) + chunk[9:]
        if kind not in _WEBP_DROPPED:
            chunks.append(chunk)
        at += len(chunk)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
