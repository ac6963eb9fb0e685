from __future__ import annotations

import io

import pytest
from PIL import Image

from generator.build.imagemeta import without_metadata

GPS = {1: "N", 2: (53.0, 54.0, 12.5), 3: "E", 4: (27.0, 33.0, 40.2)}


def picture(fmt: str, orientation: int = 1, **save: object) -> bytes:
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((64, 48)),
            Image.new("L", (64, 48), 90),
            Image.new("L", (64, 48), 9),
        ),
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera Maker"
    exif[0x8825] = GPS
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **save)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


@pytest.mark.parametrize(
    ("fmt", "save"),
    [("JPEG", {"quality": 90}), ("PNG", {"pnginfo": None}), ("WEBP", {"xmp": b"<x:xmpmeta>GPS</x:xmpmeta>"})],
)
def test_metadata_goes_and_the_image_data_stays(fmt: str, save: dict[str, object]) -> None:
    data = picture(fmt, **{k: v for k, v in save.items() if v is not None})
    assert b"Camera Maker" in data
    stripped = without_metadata(data)
    assert b"Camera Maker" not in stripped and b"xmpmeta" not in stripped
    assert pixels(stripped) == pixels(data)  # not encoded again: the same pixels
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.format == fmt and not image.getexif().get_ifd(0x8825)
        assert dict(image.getexif()) in ({}, {0x0112: 1})


def test_a_jpeg_keeps_its_orientation_and_nothing_else() -> None:
    stripped = without_metadata(picture("JPEG", orientation=6))
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {0x0112: 6}  # browsers turn it by this
        assert image.size == (64, 48)


def test_a_png_loses_its_text_chunks() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "53.9, 27.5")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 4)).save(out, "PNG", pnginfo=info)
    stripped = without_metadata(out.getvalue())
    assert b"53.9, 27.5" in out.getvalue() and b"53.9, 27.5" not in stripped
    assert pixels(stripped) == pixels(out.getvalue())


@pytest.mark.parametrize(
    "data", [b"", b"not an image", b"\xff\xd8\xff\xe1\x00", b"\x89PNG\r\n\x1a\n\x00\x00"]
)
def test_what_is_not_read_as_an_image_is_published_as_it_is(data: bytes) -> None:
    assert without_metadata(data) == data
