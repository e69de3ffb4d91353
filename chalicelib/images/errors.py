"""Failures of product images. API errors map to HTTP through their family; `ImageRejected` subclasses are
not raised to an API caller: the processing handler records their `code` and message on the image, where
the retailer reads them."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound, Unprocessable


class ImageNotFound(NotFound):
    code = "image_not_found"

    def __init__(self, image_id: str) -> None:
        super().__init__("image", image_id)


class TooManyImages(Conflict):
    code = "too_many_images"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"A product has at most {limit} images; delete one before uploading another.", limit=limit
        )


class ImagesChangedConcurrently(Conflict):
    code = "images_changed_concurrently"

    def __init__(self, product_id: str) -> None:
        super().__init__(
            "The product's images were changed by another request; read them again and retry.",
            product_id=product_id,
        )


class ImageOrderMismatch(Conflict):
    code = "image_order_mismatch"

    def __init__(self, expected: list[str]) -> None:
        super().__init__("List every pending or ready image of the product exactly once.", image_ids=expected)


class ImageRejected(Unprocessable):
    """An uploaded file the mall will not publish. The message is written for the retailer."""

    code = "image_rejected"


class EmptyUpload(ImageRejected):
    code = "empty_file"

    def __init__(self) -> None:
        super().__init__("The uploaded file is empty.")


class UploadTooLarge(ImageRejected):
    code = "file_too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"The file is {size} bytes; the limit is {limit} bytes (and the size announced when uploading).",
            size=size,
            limit=limit,
        )


class UnsupportedImageType(ImageRejected):
    code = "unsupported_type"

    def __init__(self, found: str) -> None:
        super().__init__(f"{found} is not accepted: upload a JPEG, PNG or WebP image.", found=found)


class CorruptImage(ImageRejected):
    code = "corrupt_image"

    def __init__(self) -> None:
        super().__init__("The image could not be decoded: the file is damaged or incomplete.")


class TooManyPixels(ImageRejected):
    code = "too_many_pixels"

    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(
            f"The image is {width}x{height} pixels; at most {limit // 1_000_000} megapixels are accepted.",
            width=width,
            height=height,
            limit=limit,
        )


class ImageTooSmall(ImageRejected):
    code = "image_too_small"

    def __init__(self, width: int, height: int, minimum: int) -> None:
        super().__init__(
            f"The image is {width}x{height} pixels; both sides must be at least {minimum} pixels.",
            width=width,
            height=height,
            minimum=minimum,
        )


class ProcessingGaveUp(ImageRejected):
    code = "processing_failed"

    def __init__(self, attempts: int) -> None:
        super().__init__("The image could not be processed; please upload it again.", attempts=attempts)
