"""Product images: a retailer asks for an upload form, the processing Lambda records the outcome, the
retailer orders, describes and deletes images; product views show them.

Never imports Pillow: the API Lambda uses this module. Processing lives in chalicelib/images/processing.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError

from chalicelib.auth.service import Principal
from chalicelib.catalog.errors import ProductNotFound
from chalicelib.catalog.models import ProductItem
from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.errors import InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.images import storage
from chalicelib.images.errors import (
    ImageNotFound,
    ImageOrderMismatch,
    ImageRejected,
    ImagesChangedConcurrently,
    TooManyImages,
)
from chalicelib.images.models import FAILED, PENDING, READY, ImageItem
from chalicelib.images.schemas import (
    MAX_IMAGES,
    UPLOAD_SECONDS,
    Image,
    ImageFailure,
    ImageList,
    ImageOrder,
    ImageUpdate,
    ImageUpload,
    ImageUploadIn,
    Rendition,
    UploadForm,
)

if TYPE_CHECKING:
    from chalicelib.images.processing import Rendered

# A pending image keeps its slot this long after its form expires: the upload may have started just before
# expiry and processing may be retried a few times (SQS visibility timeout) before it is recorded.
PENDING_GRACE_SECONDS = 3600
# How long a failed upload stays visible to its retailer before DynamoDB's TTL removes the record.
FAILED_KEPT_SECONDS = 7 * 24 * 3600
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _epoch() -> int:
    return int(now().timestamp())


# --- retailer ---------------------------------------------------------------------------------------


def list_images(principal: Principal, product_id: str) -> ImageList:
    _, images = _load_owned(principal, product_id)
    return ImageList(images_view(images, public=False))


def start_upload(principal: Principal, product_id: str, body: ImageUploadIn) -> ImageUpload:
    """Claims a slot for a pending image and returns the presigned POST that uploads its file."""
    shop_id = principal.require_writable_shop()
    for _attempt in range(2):
        _, images = _load_owned(principal, product_id)
        epoch = _epoch()
        live = [i for i in images if i.is_live(epoch)]
        if len(live) >= MAX_IMAGES:
            raise TooManyImages(MAX_IMAGES)
        by_slot = {i.slot: i for i in images}
        # Empty slots first, so that a failed upload stays visible to its retailer as long as possible.
        free = sorted(
            (s for s in range(MAX_IMAGES) if s not in by_slot or not by_slot[s].is_live(epoch)),
            key=lambda s: (s in by_slot, s),
        )
        slot = free[0]
        stamp = iso(now())
        image_id = new_id("img")
        item = ImageItem(
            *ImageItem.key_for(product_id, slot),
            image_id=image_id,
            product_id=product_id,
            shop_id=shop_id,
            status=PENDING,
            position=max((int(i.position) for i in live), default=-1) + 1,
            alt=body.alt,
            content_type=body.content_type,
            declared_bytes=body.size_bytes,
            expires_at=epoch + UPLOAD_SECONDS + PENDING_GRACE_SECONDS,
            created_at=stamp,
            updated_at=stamp,
        )
        previous = by_slot.get(slot)
        # The slot must still hold exactly what we read: two uploads racing for it cannot both win.
        condition = (
            ImageItem.pk.does_not_exist()
            if previous is None
            else (ImageItem.image_id == previous.image_id) & (ImageItem.status == previous.status)
        )
        try:
            item.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code != _CONDITION_FAILED:
                raise
            continue
        url, fields, expires_at = storage.presigned_post(
            storage.upload_key(shop_id, product_id, image_id), body.content_type, body.size_bytes
        )
        return ImageUpload(
            image=_image_out(item, position=len(live), public=False),
            upload=UploadForm(url=url, fields=fields, expires_at=expires_at, max_bytes=body.size_bytes),
        )
    raise ImagesChangedConcurrently(product_id)


def update_image(principal: Principal, product_id: str, image_id: str, body: ImageUpdate) -> Image:
    principal.require_writable_shop()
    _, images = _load_owned(principal, product_id)
    item = _find(images, image_id)
    try:
        item.update(
            actions=[ImageItem.alt.set(body.alt), ImageItem.updated_at.set(iso(now()))],
            condition=ImageItem.image_id == image_id,
        )
    except UpdateError as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
        raise ImageNotFound(image_id) from None
    shown = images_view(images, public=False)
    return next(i for i in shown if i.id == image_id)


def reorder_images(principal: Principal, product_id: str, body: ImageOrder) -> ImageList:
    principal.require_writable_shop()
    if len(set(body.image_ids)) != len(body.image_ids):
        raise InvalidInput.single("image_ids", "lists an image more than once")
    product, images = _load_owned(principal, product_id)
    epoch = _epoch()
    live = {i.image_id: i for i in images if i.is_live(epoch)}
    if set(body.image_ids) != set(live):
        raise ImageOrderMismatch([i.id for i in images_view(images, public=False) if i.id in live])
    stamp = iso(now())
    try:
        with transaction() as tx:
            for position, image_id in enumerate(body.image_ids):
                item = live[image_id]
                tx.update(
                    item,
                    actions=[ImageItem.position.set(position), ImageItem.updated_at.set(stamp)],
                    condition=(ImageItem.image_id == image_id) & ImageItem.status.is_in(PENDING, READY),
                )
                item.position = position
    except TransactWriteError:
        raise ImagesChangedConcurrently(product_id) from None
    _refresh_cover(product_id, (product, images))
    return ImageList(images_view(images, public=False))


def delete_image(principal: Principal, product_id: str, image_id: str) -> None:
    """Removes the image from the product, then its objects. Processing still running for it notices the
    image is gone when it tries to attach the result and removes what it wrote."""
    principal.require_writable_shop()
    product, images = _load_owned(principal, product_id)
    item = next((i for i in images if i.image_id == image_id), None)
    if item is None:
        raise ImageNotFound(image_id)
    try:
        item.delete(condition=ImageItem.image_id == image_id)
    except DeleteError as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
        raise ImageNotFound(image_id) from None
    _refresh_cover(product_id, (product, [i for i in images if i is not item]))
    storage.delete_objects(storage.all_keys(item.shop_id, item.product_id, item.image_id))


# --- processing results -----------------------------------------------------------------------------


def find_upload(ref: storage.UploadRef) -> ImageItem | None:
    """The image an uploaded object belongs to: same product, same image id, same shop."""
    for item in ImageItem.query(
        f"PRODUCT#{ref.product_id}", ImageItem.sk.startswith("IMAGE#"), consistent_read=True
    ):
        if item.image_id == ref.image_id and item.shop_id == ref.shop_id:
            return item
    return None


def mark_ready(item: ImageItem, rendered: Rendered) -> bool:
    """Attaches the renditions. True when the image is ready with them (also when a concurrent delivery of
    the same upload got there first); False when the image is gone or was refused meanwhile."""
    boxes = [[r.box, r.width, r.height] for r in rendered.renditions]
    try:
        item.update(
            actions=[
                ImageItem.status.set(READY),
                ImageItem.width.set(rendered.width),
                ImageItem.height.set(rendered.height),
                ImageItem.renditions.set(boxes),
                ImageItem.expires_at.remove(),
                ImageItem.updated_at.set(iso(now())),
            ],
            condition=(ImageItem.image_id == item.image_id) & (ImageItem.status == PENDING),
        )
    except UpdateError as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
        current = _reread(item)
        if current is None or current.image_id != item.image_id or current.status != READY:
            return False
    # Also after a concurrent delivery got there first: that one may have failed before its refresh.
    _refresh_cover(item.product_id)
    return True


def mark_failed(item: ImageItem, rejected: ImageRejected) -> bool:
    """Records why an upload was refused, where its retailer reads it. False if no longer pending."""
    try:
        item.update(
            actions=[
                ImageItem.status.set(FAILED),
                ImageItem.failure_code.set(rejected.code),
                ImageItem.failure_message.set(rejected.message),
                ImageItem.expires_at.set(_epoch() + FAILED_KEPT_SECONDS),
                ImageItem.updated_at.set(iso(now())),
            ],
            condition=(ImageItem.image_id == item.image_id) & (ImageItem.status == PENDING),
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
        return False


# --- views ------------------------------------------------------------------------------------------


def images_view(items: list[ImageItem], *, public: bool) -> list[Image]:
    """Storefronts see ready images in the retailer's order (the first is the cover); the retailer also
    sees pending uploads and refused ones with the reason, after them."""
    epoch = _epoch()
    if public:
        shown = [i for i in items if i.status == READY]
        failed: list[ImageItem] = []
    else:
        shown = [i for i in items if i.is_live(epoch)]
        failed = [
            i for i in items if i.status == FAILED and (i.expires_at is None or int(i.expires_at) > epoch)
        ]
    shown.sort(key=lambda i: (int(i.position), i.created_at, i.image_id))
    failed.sort(key=lambda i: (i.created_at, i.image_id))
    return [_image_out(item, position, public) for position, item in enumerate(shown + failed)]


def _image_out(item: ImageItem, position: int, public: bool) -> Image:
    renditions: list[Rendition] = []
    if item.status == READY:
        for box, width, height in item.renditions or []:
            key = storage.rendition_key(item.shop_id, item.product_id, item.image_id, int(box))
            renditions.append(Rendition(int(box), int(width), int(height), storage.public_url(key)))
    failure = None
    if item.status == FAILED and not public:
        failure = ImageFailure(item.failure_code or "image_rejected", item.failure_message or "")
    return Image(
        id=item.image_id,
        position=position,
        alt=item.alt,
        status=item.status,  # type: ignore[arg-type]
        width=int(item.width) if item.width is not None else None,
        height=int(item.height) if item.height is not None else None,
        renditions=renditions,
        failure=failure,
        created_at=item.created_at,
    )


# --- helpers ----------------------------------------------------------------------------------------


def product_and_images(product_id: str) -> tuple[ProductItem | None, list[ImageItem]]:
    """One consistent Query: sort keys IMAGE#00..IMAGE#09 < PRODUCT, so the range stops before the
    variants."""
    product: ProductItem | None = None
    images: list[ImageItem] = []
    for item in MallItem.query(
        f"PRODUCT#{product_id}", MallItem.sk.between("IMAGE#", "PRODUCT"), consistent_read=True
    ):
        if isinstance(item, ImageItem):
            images.append(item)
        elif isinstance(item, ProductItem):
            product = item
    return product, images


def _refresh_cover(product_id: str, known: tuple[ProductItem | None, list[ImageItem]] | None = None) -> None:
    # Imported here: storefront reads load this module for images_view, and a catalogue cold start
    # should not pay for the writes (tests/functional/test_catalogue_cold_start.py).
    from chalicelib.images.cover import refresh_cover

    refresh_cover(product_id, known)


def _load_owned(principal: Principal, product_id: str) -> tuple[ProductItem, list[ImageItem]]:
    """The product and its images in one consistent Query: sort keys IMAGE#00..IMAGE#09 < PRODUCT, so
    the range stops before the variants."""
    product, images = product_and_images(product_id)
    if product is None or product.shop_id != principal.shop_id:
        # Another shop's product is reported as missing: no hint that the id exists.
        raise ProductNotFound(product_id)
    return product, images


def _find(images: list[ImageItem], image_id: str) -> ImageItem:
    epoch = _epoch()
    for item in images:
        if item.image_id == image_id and (item.is_live(epoch) or item.status == FAILED):
            return item
    raise ImageNotFound(image_id)


def _reread(item: ImageItem) -> ImageItem | None:
    try:
        return ImageItem.get(item.pk, item.sk, consistent_read=True)
    except ImageItem.DoesNotExist:
        return None
