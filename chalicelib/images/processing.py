"""Turns an uploaded file into published WebP renditions: the only module that imports Pillow.

Runs in its own Lambda (app.py `process_image_uploads`, fed by S3 -> SQS), never in the API's: app.py
imports this module inside the handler's body. `render` is a pure function of the bytes; `process_upload`
reads and writes S3 and records the result on the image, idempotently, because SQS delivers at least once
and Lambda retries a failed batch.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalicelib.core import metrics
from chalicelib.core.config import settings
from chalicelib.core.log import logger
from chalicelib.images import service, storage
from chalicelib.images.errors import (
    CorruptImage,
    EmptyUpload,
    ImageRejected,
    ImageTooSmall,
    ProcessingGaveUp,
    TooManyPixels,
    UnsupportedImageType,
    UploadTooLarge,
)
from chalicelib.images.models import PENDING
from chalicelib.images.schemas import MAX_UPLOAD_BYTES

if TYPE_CHECKING:  # annotations only: Pillow is imported inside the functions that run
    from PIL.Image import Image as PilImage

# Pillow decoders allowed to touch uploaded bytes. Everything else (GIF, TIFF, EPS, PSD...) is never
# opened, so their parsers are not attack surface.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# 50 MP covers every phone's default mode (12-48 MP) with room to spare. It bounds decoded memory:
# a PNG or WebP cannot be decoded at reduced scale, and 50 MP RGBA is 200 MB.
MAX_PIXELS = 50_000_000
MIN_EDGE = 100
WEBP_QUALITY = 80
# method 4 is libwebp's default trade-off; 6 is ~2x slower for ~3 % smaller files.
WEBP_METHOD = 4
# A message received this many times crashed or timed out every time before (the Lambda runs out of memory
# or time on a pathological file): the image is marked failed instead of being tried until the DLQ.
MAX_ATTEMPTS = 3
_ORIENTATION = 0x0112  # EXIF tag

_ACCEPTED_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_SIGNATURES = (
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"8BPS", "Photoshop (PSD)"),
)


@dataclass(frozen=True)
class RenderedBox:
    box: int
    width: int
    height: int
    data: bytes  # WebP


@dataclass(frozen=True)
class Rendered:
    width: int  # of the upload, upright
    height: int
    source_format: str
    renditions: list[RenderedBox]  # smallest box first


def render(data: bytes) -> Rendered:
    """Checks an upload really is an accepted image within limits; returns metadata-free WebP renditions.

    Raises an ImageRejected subclass for anything a retailer must fix. The output keeps no EXIF (GPS of the
    shop owner's phone), XMP or ICC data: pixels are converted to sRGB, turned upright, then re-encoded.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise EmptyUpload()
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(len(data), MAX_UPLOAD_BYTES)
    # Pillow warns between 1x and 2x this limit and refuses beyond; we refuse both (warnings -> errors).
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels(*_claimed_size(data), MAX_PIXELS) from None
    except UnidentifiedImageError:
        if data.startswith(_ACCEPTED_MAGIC) or data[8:12] == b"WEBP":
            raise CorruptImage() from None  # one of ours by its signature, with a header Pillow rejects
        raise UnsupportedImageType(_sniff(data)) from None
    except (OSError, SyntaxError, ValueError):  # a recognised header that is itself damaged
        raise CorruptImage() from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooManyPixels(width, height, MAX_PIXELS)
    if min(width, height) < MIN_EDGE:
        raise ImageTooSmall(width, height, MIN_EDGE)
    source_format = str(image.format)
    orientation = _orientation(image)
    icc = image.info.get("icc_profile")
    # The upright size of the upload as sent, for the retailer (decoding below may be at reduced scale).
    upright_size = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    largest = max(storage.RENDITION_BOXES)
    if source_format == "JPEG":
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale for free: a 12 MP photo becomes 3 MP before it is ever
        # in memory. The box is square, so turning the image upright later cannot make it too small.
        image.draft(None, (largest, largest))
    try:
        image.load()
        # Peak memory is the decoded upload plus one small image: everything after the first resize
        # (colour, orientation, metadata) works on the largest rendition, never on a full-size copy.
        current = _finish(_fit(_resizable(image), largest), orientation, icc)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        # Truncated or corrupt pixel data; Pillow raises OSError("image file is truncated") and friends.
        raise CorruptImage() from None
    finally:
        image.close()
    renditions: list[RenderedBox] = []
    for box in sorted(storage.RENDITION_BOXES, reverse=True):
        # Each size from the next larger one: cheaper than from the original, no visible difference.
        current = _fit(current, box)
        renditions.append(RenderedBox(box, current.width, current.height, _webp(current)))
    return Rendered(*upright_size, source_format, renditions[::-1])


def _orientation(image: PilImage) -> int:
    """The EXIF orientation (1 = upright). A damaged EXIF block is not worth refusing a photo for."""
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _resizable(image: PilImage) -> PilImage:
    """A mode Pillow resamples well (LANCZOS on palette or 1-bit images would fall back to nearest)."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale (some PNGs): scale to 8 bits; a plain convert would clip everything to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "PA":
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image


def _fit(image: PilImage, box: int) -> PilImage:
    """The image scaled down to fit a box x box square (never enlarged); the same object if it fits."""
    from PIL import Image

    width, height = image.size
    if max(width, height) <= box:
        return image
    scale = box / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: an integer box reduction first, then LANCZOS on the rest: much faster on 50 MP, same look.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _finish(image: PilImage, orientation: int, icc: bytes | None) -> PilImage:
    """Upright, sRGB, RGB or RGBA, and no metadata at all."""
    from PIL import Image, ImageCms

    mode = image.mode
    target = "RGBA" if mode in ("RGBA", "LA", "RGBa", "La") else "RGB"
    if icc and mode in ("RGB", "RGBA", "CMYK", "L"):
        # Phones tag photos Display P3; a browser shows untagged WebP as sRGB, so convert the pixels
        # rather than dropping the profile silently (greens and reds would look dull).
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=target
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.info("icc profile ignored")
    if image.mode != target:
        image = image.convert(target)
    if target == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")  # an alpha channel that is opaque everywhere only costs bytes
    transpose = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    # Always a new image: the upload's object, with its info dict of metadata (EXIF, XMP...), is left behind.
    image = image.transpose(transpose) if transpose is not None else image.copy()
    image.info = {}
    return image


def _webp(image: PilImage) -> bytes:
    out = io.BytesIO()
    # exif/xmp/icc are only written when passed here; passing empty values makes that explicit.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exif=b"", xmp=b"", icc_profile=None)
    return out.getvalue()


def _sniff(data: bytes) -> str:
    """Names a refused format for the retailer's error message, from magic bytes only."""
    head = data[:16]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "HEIC" if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc") else "This video or HEIF file"
    if head.lstrip().startswith((b"<?xml", b"<svg")):
        return "SVG"
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    return "This file"


def _claimed_size(data: bytes) -> tuple[int, int]:
    """The header's dimensions of an image Pillow refused as a bomb, for the message (0x0 if unknown)."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # header only: nothing is decoded
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                return image.size
    except Exception:
        return 0, 0
    finally:
        Image.MAX_IMAGE_PIXELS = saved


# --- the handler ------------------------------------------------------------------------------------


def handle_sqs_event(records: list[dict[str, Any]]) -> None:
    """Lambda SQS records, each carrying one S3 event notification. An exception fails the batch (one
    message: batch_size=1) so SQS delivers it again; everything that is the upload's fault is recorded
    on the image instead, and the message is consumed."""
    for record in records:
        attempts = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        body = json.loads(record["body"])
        if body.get("Event") == "s3:TestEvent":  # S3 sends one when the notification is configured
            continue
        for s3_record in body.get("Records", []):
            if not str(s3_record.get("eventName", "")).startswith("ObjectCreated:"):
                continue
            bucket = s3_record["s3"]["bucket"]["name"]
            key = unquote_plus(s3_record["s3"]["object"]["key"])  # event keys are URL-encoded
            process_upload(bucket, key, attempts=attempts)


def process_upload(bucket: str, key: str, attempts: int = 1) -> str:
    """Processes one uploaded object; returns what happened (for logs and tests). Safe to run any number
    of times, also concurrently: only the first pending -> ready|failed transition of the image wins."""
    from botocore.exceptions import ClientError

    log = {"bucket": bucket, "key": key, "attempts": attempts}
    if bucket != settings().image_bucket:
        logger.warning("upload in an unexpected bucket ignored", extra=log)
        return "ignored"
    ref = storage.parse_upload_key(key)
    image = service.find_upload(ref) if ref else None
    if ref is None or image is None:
        # Not an upload we handed out (moto does not enforce the POST policy; a stale slot was reused).
        storage.delete_objects([key])
        logger.warning("unknown upload deleted", extra=log)
        return "unknown"
    if image.status != PENDING:
        storage.delete_objects([key])  # a redelivery after the work was done: just tidy up
        return "done"
    if attempts > MAX_ATTEMPTS:
        service.mark_failed(image, ProcessingGaveUp(attempts - 1))
        metrics.count("ImageUploadsFailed")
        storage.delete_objects([key])
        logger.error("image processing gave up", extra=log)
        return "failed"
    client = storage.s3()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        size = int(head["ContentLength"])
        limit = min(int(image.declared_bytes), MAX_UPLOAD_BYTES)
        if size == 0:
            raise EmptyUpload()
        if size > limit:
            # Checked before download: S3's policy would have refused it, moto's does not.
            raise UploadTooLarge(size, limit)
        data = client.get_object(Bucket=bucket, Key=key)["Body"].read(limit + 1)
        if len(data) > limit:  # replaced by a larger file between HEAD and GET (the form can be reused)
            raise UploadTooLarge(len(data), limit)
        rendered = render(data)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return "gone"  # processed and deleted by an earlier delivery, or the image was deleted
        raise
    except ImageRejected as rejected:
        service.mark_failed(image, rejected)
        metrics.count("ImageUploadsRefused")
        storage.delete_objects([key])
        logger.info("upload rejected", extra={**log, "code": rejected.code})
        return "failed"
    written = [
        storage.rendition_key(image.shop_id, image.product_id, image.image_id, r.box)
        for r in rendered.renditions
    ]
    for target, rendition in zip(written, rendered.renditions, strict=True):
        client.put_object(
            Bucket=bucket,
            Key=target,
            Body=rendition.data,
            ContentType="image/webp",
            CacheControl="public, max-age=31536000, immutable",  # a key is never rewritten with new pixels
        )
    if not service.mark_ready(image, rendered):
        # Deleted by its retailer (or its slot reused) while we worked: remove what we just wrote.
        storage.delete_objects(written)
        storage.delete_objects([key])
        return "orphaned"
    storage.delete_objects([key])
    logger.info("image ready", extra={**log, "format": rendered.source_format})
    return "ready"
