"""Image processing on real bytes: orientation, metadata stripping, alpha, and every kind of bad upload."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms, ImageDraw

from chalicelib.images import processing
from chalicelib.images.errors import (
    CorruptImage,
    EmptyUpload,
    ImageTooSmall,
    TooManyPixels,
    UnsupportedImageType,
    UploadTooLarge,
)
from chalicelib.images.schemas import MAX_UPLOAD_BYTES

GPS_IFD = 0x8825
ORIENTATION = 0x0112
GHENT_GPS = {1: "N", 2: (51.0, 3.0, 15.5), 3: "E", 4: (3.0, 43.0, 19.0)}


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _phone_jpeg(width: int = 800, height: int = 400, orientation: int = 6) -> bytes:
    """As a phone held upright stores it: sensor-landscape pixels, an orientation tag and GPS."""
    image = Image.new("RGB", (width, height), (220, 30, 30))
    ImageDraw.Draw(image).rectangle((width // 2, 0, width, height), fill=(30, 30, 220))  # right half blue
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = GHENT_GPS
    exif[0x010F] = "PhoneMaker"  # Make
    return _encode(image, "JPEG", quality=92, exif=exif.tobytes())


def _riff_chunks(webp: bytes) -> list[bytes]:
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(webp):
        name, size = webp[offset : offset + 4], struct.unpack("<I", webp[offset + 4 : offset + 8])[0]
        chunks.append(name)
        offset += 8 + size + (size & 1)
    return chunks


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming huge dimensions, with a token IDAT: a decompression bomb's
    header. Nothing here may be decoded before the pixel count is checked."""

    def chunk(name: bytes, payload: bytes) -> bytes:
        body = name + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_phone_jpeg_is_turned_upright_and_loses_all_metadata() -> None:
    source = _phone_jpeg()
    with Image.open(io.BytesIO(source)) as original:  # the test's premise: the upload does carry GPS
        assert original.getexif().get_ifd(GPS_IFD)
        assert original.size == (800, 400)

    rendered = processing.render(source)

    assert (rendered.width, rendered.height) == (400, 800)
    assert [(r.box, r.width, r.height) for r in rendered.renditions] == [
        (200, 100, 200),
        (600, 300, 600),
        (1200, 400, 800),  # never enlarged
    ]
    for rendition in rendered.renditions:
        assert _riff_chunks(rendition.data)[0] in (b"VP8 ", b"VP8L", b"VP8X")
        assert not {b"EXIF", b"XMP ", b"ICCP"} & set(_riff_chunks(rendition.data))
        assert b"PhoneMaker" not in rendition.data
        with Image.open(io.BytesIO(rendition.data)) as out:
            assert out.format == "WEBP"
            assert not out.getexif()
            assert "exif" not in out.info and "icc_profile" not in out.info
            # Orientation 6 = rotate 90 degrees clockwise: the sensor's left half (red) is now on top.
            top = out.convert("RGB").getpixel((out.width // 2, out.height // 4))
            bottom = out.convert("RGB").getpixel((out.width // 2, 3 * out.height // 4))
            assert top[0] > 150 > top[2], top
            assert bottom[2] > 150 > bottom[0], bottom


@pytest.mark.parametrize(
    ("orientation", "size"), [(1, (800, 400)), (3, (800, 400)), (8, (400, 800)), (5, (400, 800))]
)
def test_every_orientation_gives_the_upright_size(orientation: int, size: tuple[int, int]) -> None:
    rendered = processing.render(_phone_jpeg(orientation=orientation))
    assert (rendered.width, rendered.height) == size
    assert (rendered.renditions[-1].width, rendered.renditions[-1].height) == size


def test_png_alpha_survives_and_an_opaque_alpha_channel_is_dropped() -> None:
    image = Image.new("RGBA", (300, 300), (0, 128, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 149, 299), fill=(0, 0, 0, 0))  # left half transparent
    rendered = processing.render(_encode(image, "PNG"))
    with Image.open(io.BytesIO(rendered.renditions[-1].data)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((10, 150))[3] == 0
        assert out.getpixel((290, 150))[3] == 255

    opaque = processing.render(_encode(Image.new("RGBA", (300, 300), (9, 9, 9, 255)), "PNG"))
    with Image.open(io.BytesIO(opaque.renditions[-1].data)) as out:
        assert out.mode == "RGB"


def test_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (200, 200), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    ImageDraw.Draw(image).rectangle((100, 0, 199, 199), fill=1)
    rendered = processing.render(_encode(image, "PNG", transparency=0))
    with Image.open(io.BytesIO(rendered.renditions[0].data)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((10, 10))[3] == 0
        assert out.getpixel((out.width - 10, 10))[2] > 200


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (200, 200), 0x8000)  # mid grey at 16 bits
    rendered = processing.render(_encode(image, "PNG"))
    with Image.open(io.BytesIO(rendered.renditions[0].data)) as out:
        value = out.convert("L").getpixel((50, 50))
        assert 110 <= value <= 145, value


def test_cmyk_jpeg_and_webp_inputs_are_accepted() -> None:
    cmyk = processing.render(_encode(Image.new("CMYK", (400, 300), (0, 255, 255, 0)), "JPEG"))
    with Image.open(io.BytesIO(cmyk.renditions[-1].data)) as out:
        assert out.mode == "RGB"
        red, green, blue = out.getpixel((200, 150))
        assert red > 200 and green < 60 and blue < 60
    webp = processing.render(_encode(Image.new("RGB", (1600, 900), (1, 2, 3)), "WEBP"))
    assert webp.source_format == "WEBP"
    assert [(r.width, r.height) for r in webp.renditions] == [(200, 113), (600, 338), (1200, 675)]


def test_an_embedded_colour_profile_is_applied_then_removed() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rendered = processing.render(
        _encode(Image.new("RGB", (300, 300), (200, 100, 50)), "PNG", icc_profile=srgb)
    )
    for rendition in rendered.renditions:
        assert b"ICCP" not in _riff_chunks(rendition.data)
    with Image.open(io.BytesIO(rendered.renditions[0].data)) as out:
        red, green, blue = out.getpixel((100, 100))
        assert abs(red - 200) < 8 and abs(green - 100) < 8 and abs(blue - 50) < 8


def test_a_twelve_megapixel_jpeg_renders_from_a_reduced_decode() -> None:
    photo = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    rendered = processing.render(_encode(photo, "JPEG", quality=85))
    assert (rendered.width, rendered.height) == (4000, 3000)
    assert [(r.width, r.height) for r in rendered.renditions] == [(200, 150), (600, 450), (1200, 900)]


# --- bad uploads -------------------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(EmptyUpload):
        processing.render(b"")


def test_an_oversize_file_is_refused_before_decoding() -> None:
    with pytest.raises(UploadTooLarge) as caught:
        processing.render(b"\xff\xd8\xff" + b"\0" * MAX_UPLOAD_BYTES)
    assert caught.value.details["limit"] == MAX_UPLOAD_BYTES


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_encode(Image.new("RGB", (300, 300)), "GIF"), "GIF"),
        (_encode(Image.new("RGB", (300, 300)), "BMP"), "BMP"),
        (_encode(Image.new("RGB", (300, 300)), "TIFF"), "TIFF"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "HEIC"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
        (b"%PDF-1.7\n" + b"\0" * 100, "PDF"),
        (b"just some text, not an image at all", "This file"),
    ],
)
def test_other_formats_are_refused_by_name(data: bytes, named: str) -> None:
    with pytest.raises(UnsupportedImageType) as caught:
        processing.render(data)
    assert caught.value.details["found"] == named
    assert caught.value.code == "unsupported_type"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_corrupt(fmt: str) -> None:
    noisy = Image.effect_noise((600, 600), 60).convert("RGB")
    whole = _encode(noisy, fmt)
    with pytest.raises(CorruptImage):
        processing.render(whole[: len(whole) // 2])


def test_a_jpeg_with_garbage_in_its_pixel_data_is_corrupt() -> None:
    whole = _encode(Image.effect_noise((600, 600), 60).convert("RGB"), "JPEG")
    start = whole.index(b"\xff\xda") + 20  # inside the entropy-coded data, after the start-of-scan
    damaged = whole[:start] + bytes(b ^ 0x5A for b in whole[start : start + 5000]) + whole[start + 5000 :]
    with pytest.raises(CorruptImage):
        processing.render(damaged)


def test_a_jpeg_whose_header_is_damaged_is_corrupt_not_unsupported() -> None:
    whole = _encode(Image.new("RGB", (600, 600)), "JPEG")
    start_of_frame = whole.index(b"\xff\xc0")
    zero_height = whole[: start_of_frame + 5] + b"\0\0" + whole[start_of_frame + 7 :]
    with pytest.raises(CorruptImage):
        processing.render(zero_height)


@pytest.mark.parametrize(
    "size",
    [
        (100_000, 100_000),  # 10 gigapixels: Pillow itself refuses (over twice the limit)
        (8_000, 7_000),  # 56 MP: between the limit and twice it, where Pillow only warns
    ],
)
def test_a_decompression_bomb_header_is_refused_without_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(TooManyPixels) as caught:
        processing.render(_png_header_only(*size))
    assert (caught.value.details["width"], caught.value.details["height"]) == size


def test_a_real_bomb_small_on_disk_is_refused() -> None:
    bomb = _encode(Image.new("1", (9_000, 9_000)), "PNG")  # 81 MP of zeros: a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(TooManyPixels):
        processing.render(bomb)


def test_a_thumbnail_sized_upload_is_too_small() -> None:
    with pytest.raises(ImageTooSmall):
        processing.render(_encode(Image.new("RGB", (640, 60)), "PNG"))


def test_render_does_not_change_pillows_global_limit_for_header_reads() -> None:
    # _claimed_size lifts the limit to read a bomb's header for the message: it must put it back.
    with pytest.raises(TooManyPixels):
        processing.render(_png_header_only(100_000, 100_000))
    assert Image.MAX_IMAGE_PIXELS == processing.MAX_PIXELS
