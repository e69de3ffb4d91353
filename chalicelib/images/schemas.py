"""Shapes of product images on the wire, and the limits a retailer's upload must respect."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from chalicelib.core.types import Id
from chalicelib.core.validation import text

MAX_IMAGES = 10  # per product: pending and ready images count, failed ones do not
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a 12-50 MP phone JPEG is 3-8 MB
UPLOAD_SECONDS = 300  # how long a presigned POST is valid

# HEIC is not listed: Pillow 12 cannot decode it without a native plugin (libheif) in the Lambda, and
# browsers already hand HEIC photos over as JPEG when a file input does not accept image/heic.
ContentType = Annotated[
    Literal["image/jpeg", "image/png", "image/webp"],
    Meta(description="The file's type: JPEG, PNG or WebP"),
]
UploadSize = Annotated[
    int,
    Meta(ge=1, le=MAX_UPLOAD_BYTES, description=f"The file's exact size in bytes, 1 to {MAX_UPLOAD_BYTES}"),
]
AltText = Annotated[str, text(max_length=250, description="What the image shows, for screen readers")]
ImageStatus = Literal["pending", "ready", "failed"]


class ImageUploadIn(Struct, forbid_unknown_fields=True):
    content_type: ContentType
    size_bytes: UploadSize
    alt: AltText = ""


class ImageUpdate(Struct, forbid_unknown_fields=True):
    alt: AltText


class ImageOrder(Struct, forbid_unknown_fields=True):
    """Every pending or ready image of the product, first one = cover."""

    image_ids: Annotated[list[Id], Meta(min_length=1, max_length=MAX_IMAGES)]


class Rendition(Struct):
    size: int  # the square box the image was fitted into: 200, 600 or 1200
    width: int
    height: int
    url: str


class ImageFailure(Struct):
    code: str
    message: str


class Image(Struct):
    id: Id
    position: int  # 0 = cover
    alt: str
    status: ImageStatus  # storefronts only ever see "ready"
    width: int | None  # of the uploaded photo, upright; None until ready
    height: int | None
    renditions: list[Rendition]  # WebP, smallest first; empty until ready
    failure: ImageFailure | None  # why the upload was refused (status "failed")
    created_at: str


class ImageList(Struct):
    items: list[Image]


class UploadForm(Struct):
    """POST `fields` then the file (as the last part, named "file") to `url` as multipart/form-data."""

    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


class ImageUpload(Struct):
    image: Image
    upload: UploadForm
