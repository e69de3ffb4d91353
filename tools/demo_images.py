"""Generated product photos for the demo mall: a coloured tile with the product's initials per product.

Deterministic (the colour comes from a CRC32 of the name) and fast (~50 ms an image, processing included),
so `make run` seeds a few images per shop in seconds. Each image takes the real path minus the browser:
an upload slot and form from the images service, the object put under its uploads/ key, then the same
`process_upload` the Lambda runs, in this process (the local stack then drops the S3 events those puts
raised: the images are already done).
"""

from __future__ import annotations

import colorsys
import io
import zlib
from typing import Any

from PIL import Image, ImageDraw, ImageFont

SIDE = 800


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def tile(name: str) -> bytes:
    """A JPEG 'photo' of a product: its initials on a colour of its own, with a shelf-like band."""
    hue = (zlib.crc32(name.encode()) % 360) / 360
    background = tuple(round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.45, 0.85))
    band = tuple(round(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.6, 0.6))
    image = Image.new("RGB", (SIDE, SIDE), background)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, SIDE * 3 // 4, SIDE, SIDE), fill=band)  # type: ignore[arg-type]
    font: Any
    try:
        font = ImageFont.load_default(size=SIDE // 3)
    except (OSError, TypeError):  # Pillow built without FreeType: the small bitmap font still works
        font = ImageFont.load_default()
    draw.text((SIDE / 2, SIDE * 3 / 8), initials(name), fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_image(principal: Any, product_id: str, name: str) -> str:
    """Gives a product one generated image; returns the processing outcome ("ready")."""
    from chalicelib.core.config import settings
    from chalicelib.images import storage
    from chalicelib.images.processing import process_upload
    from chalicelib.images.schemas import ImageUploadIn
    from chalicelib.images.service import start_upload

    data = tile(name)
    ticket = start_upload(principal, product_id, ImageUploadIn("image/jpeg", len(data), alt=name))
    key = ticket.upload.fields["key"]
    bucket = settings().image_bucket
    storage.s3().put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
    return process_upload(bucket, key)
