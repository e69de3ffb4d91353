"""Product images through the API and the processing Lambda, on moto (S3 -> SQS wiring from the template).

The file goes where a browser would send it: a multipart POST of the presigned form to the S3 endpoint
(moto intercepts it). moto then queues the S3 event, and `deliver` hands the queued messages to the
`process_image_uploads` Lambda exactly as the SQS event source would.
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import boto3
import pytest
import requests
from chalice.test import Client
from PIL import Image, ImageDraw

from chalicelib.images.schemas import MAX_IMAGES, MAX_UPLOAD_BYTES, UPLOAD_SECONDS

BUCKET = "digital-mall-test-images-123456789012"
GPS_IFD = 0x8825


def phone_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    ImageDraw.Draw(image).rectangle((width // 2, 0, width, height), fill=(40, 40, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # held upright: stored landscape, shown portrait
    exif[GPS_IFD] = {1: "N", 2: (51.0, 3.0, 15.5), 3: "E", 4: (3.0, 43.0, 19.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming width x height pixels with almost no data: a decompression bomb's shape."""

    def chunk(name: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + name + payload + struct.pack(">I", zlib.crc32(name + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + data


def png(width: int = 400, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 10, 128)).save(out, "PNG")
    return out.getvalue()


class Images:
    """Drives one retailer's product images: API calls, the S3 upload, and the processing Lambda."""

    def __init__(self, api: Any, client: Client, key: str, product_id: str) -> None:
        self.api, self.client, self.key, self.product_id = api, client, key, product_id
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        self.queue_url = self.sqs.get_queue_url(QueueName="digital-mall-test-image-uploads")["QueueUrl"]
        # Drop the s3:TestEvent S3 sends when the notification is configured (its handling is tested apart).
        self.sqs.purge_queue(QueueUrl=self.queue_url)

    def presign(
        self, content_type: str = "image/jpeg", size: int | None = None, **extra: Any
    ) -> tuple[int, Any]:
        body = {"content_type": content_type, "size_bytes": size if size is not None else 1_000_000, **extra}
        return self.api.call("POST", f"/retailer/products/{self.product_id}/images", body, key=self.key)

    def upload(
        self, data: bytes, content_type: str = "image/jpeg", size: int | None = None
    ) -> dict[str, Any]:
        status, ticket = self.presign(content_type, len(data) if size is None else size)
        assert status == 201, ticket
        self.post_form(ticket["upload"], data, content_type)
        return ticket

    @staticmethod
    def post_form(form: dict[str, Any], data: bytes, content_type: str) -> None:
        # As a browser does: the policy's fields first, the file last.
        response = requests.post(
            form["url"], data=form["fields"], files={"file": ("photo", data, content_type)}, timeout=10
        )
        assert response.status_code in (200, 201, 204), response.text

    def deliver(self, receive_count: int | None = None) -> int:
        """Hands every queued S3 event to the Lambda, one message per invocation (batch_size=1)."""
        delivered = 0
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return delivered
            for message in messages:
                self.invoke(message, receive_count)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1

    def invoke(self, message: dict[str, Any], receive_count: int | None = None) -> None:
        attributes = dict(message.get("Attributes", {}))
        if receive_count is not None:
            attributes["ApproximateReceiveCount"] = str(receive_count)
        event = {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": attributes,
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digital-mall-test-image-uploads",
                    "awsRegion": "eu-west-1",
                }
            ]
        }
        self.client.lambda_.invoke("process_image_uploads", event)

    def listed(self) -> list[dict[str, Any]]:
        status, body = self.api.call("GET", f"/retailer/products/{self.product_id}/images", key=self.key)
        assert status == 200, body
        return body["items"]

    def storefront(self) -> list[dict[str, Any]]:
        status, body = self.api.call("GET", f"/products/{self.product_id}")
        assert status == 200, body
        return body["images"]

    def keys(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture
def lambdas(aws: dict[str, str]) -> Iterator[Client]:
    from app import app

    with Client(app, stage_name="test") as client:
        yield client


@pytest.fixture
def shop_images(api: Any, lambdas: Client, open_shop: Any, product_body: dict[str, Any]) -> Images:
    _, key = open_shop()
    status, product = api.call("POST", "/retailer/products", product_body, key=key)
    assert status == 201, product
    return Images(api, lambdas, key, product["id"])


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


# --- the upload form -----------------------------------------------------------------------------------


def test_the_presigned_post_is_scoped_to_one_key_with_type_size_and_expiry(shop_images: Images) -> None:
    status, ticket = shop_images.presign("image/png", 2_345_678, alt="Red wool scarf")
    assert status == 201, ticket
    image, form = ticket["image"], ticket["upload"]
    assert image["status"] == "pending" and image["alt"] == "Red wool scarf" and image["renditions"] == []
    shop_id = shop_images.api.call("GET", "/retailer/shop", key=shop_images.key)[1]["id"]
    key = f"uploads/{shop_id}/{shop_images.product_id}/{image['id']}"
    assert form["fields"]["key"] == key
    assert form["fields"]["Content-Type"] == "image/png"
    assert form["url"].startswith(f"https://{BUCKET}.s3.eu-west-1.amazonaws.com")
    assert form["max_bytes"] == 2_345_678

    policy = _policy(form["fields"])
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions  # exact: not a prefix, not ${filename}
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, 2_345_678] in conditions
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    left = (expires - datetime.now(UTC)).total_seconds()
    assert UPLOAD_SECONDS - 30 < left <= UPLOAD_SECONDS
    assert (
        abs((datetime.fromisoformat(form["expires_at"].replace("Z", "+00:00")) - expires).total_seconds()) < 5
    )

    # Pending images are the retailer's business only.
    assert [i["status"] for i in shop_images.listed()] == ["pending"]
    assert shop_images.storefront() == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"content_type": "image/heic", "size_bytes": 1000}, {"content_type"}),
        ({"content_type": "image/gif", "size_bytes": 0}, {"content_type", "size_bytes"}),
        ({"content_type": "image/jpeg", "size_bytes": MAX_UPLOAD_BYTES + 1}, {"size_bytes"}),
        ({"content_type": "image/jpeg", "size_bytes": 10, "alt": "x" * 251}, {"alt"}),
        ({"size_bytes": 10}, {"content_type"}),
        ({"content_type": "image/jpeg", "size_bytes": 10, "key": "uploads/other/x"}, {"key"}),
        ({"content_type": "image/jpeg", "size_bytes": "10"}, {"size_bytes"}),
    ],
)
def test_a_bad_upload_request_names_each_bad_field_and_creates_nothing(
    shop_images: Images, body: dict[str, Any], fields: set[str]
) -> None:
    status, error = shop_images.api.call(
        "POST", f"/retailer/products/{shop_images.product_id}/images", body, key=shop_images.key
    )
    assert status == 400, error
    assert {f["field"] for f in error["error"]["fields"]} == fields
    assert shop_images.listed() == []


# --- processing ------------------------------------------------------------------------------------


def test_an_uploaded_photo_becomes_upright_metadata_free_renditions(shop_images: Images) -> None:
    ticket = shop_images.upload(phone_jpeg(), "image/jpeg")
    image_id = ticket["image"]["id"]
    assert shop_images.keys("uploads/") == [ticket["upload"]["fields"]["key"]]

    assert shop_images.deliver() == 1

    with signed_a_second_apart():  # as on a busy machine, the two responses are signed in different seconds
        (image,) = shop_images.listed()
        (shown,) = shop_images.storefront()
    assert image["id"] == image_id and image["status"] == "ready" and image["failure"] is None
    assert (image["width"], image["height"]) == (1200, 1600)  # turned upright
    assert [(r["size"], r["width"], r["height"]) for r in image["renditions"]] == [
        (200, 150, 200),
        (600, 450, 600),
        (1200, 900, 1200),
    ]
    assert shop_images.keys("uploads/") == []  # the original, with its GPS position, is gone
    published = shop_images.keys("public/")
    assert len(published) == 3 and all(k.endswith(f"/{image_id}/{k.rsplit('/', 1)[1]}") for k in published)

    # A presigned URL carries the second it was signed in (X-Amz-Date): compare what it points to. Comparing
    # whole URLs failed when the two requests straddled a second boundary (rarely; more on a busy machine).
    assert shown["position"] == 0
    assert _without_signatures([shown])[0]["renditions"] == _without_signatures([image])[0]["renditions"]
    for rendition in shown["renditions"]:
        # No IMAGE_BASE_URL on this stage: presigned GETs, which moto serves.
        assert "X-Amz-Signature=" in rendition["url"]
        response = requests.get(rendition["url"], timeout=10)
        assert response.status_code == 200
        with Image.open(io.BytesIO(response.content)) as webp:
            assert webp.format == "WEBP" and webp.size == (rendition["width"], rendition["height"])
            assert not webp.getexif()
        key = urlsplit(rendition["url"]).path.lstrip("/")
        assert key in published
        head = shop_images.s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == "image/webp"
        assert "immutable" in head["CacheControl"]


def test_with_an_image_base_url_storefronts_get_stable_cdn_urls(
    shop_images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.core.config import settings

    shop_images.upload(png(), "image/png")
    shop_images.deliver()
    monkeypatch.setenv("IMAGE_BASE_URL", "https://images.mall.example/")
    settings.cache_clear()
    try:
        (shown,) = shop_images.storefront()
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    published = shop_images.keys("public/")
    assert sorted(r["url"] for r in shown["renditions"]) == sorted(
        f"https://images.mall.example/{key}" for key in published
    )


def test_redelivered_and_duplicated_events_attach_the_image_once(shop_images: Images) -> None:
    shop_images.upload(png(), "image/png")
    (message,) = shop_images.sqs.receive_message(QueueUrl=shop_images.queue_url, AttributeNames=["All"])[
        "Messages"
    ]
    shop_images.invoke(message)
    first = _without_signatures(shop_images.listed())
    shop_images.invoke(message)  # SQS delivers at least once
    shop_images.invoke(message, receive_count=2)
    assert _without_signatures(shop_images.listed()) == first
    assert len(shop_images.keys("public/")) == 3


@contextlib.contextmanager
def signed_a_second_apart() -> Iterator[None]:
    """Every AWS signature made inside is dated a second after the one before, as when each request takes
    over a second: presigned URLs then differ from one response to the next, as they may on a busy machine."""
    import botocore.auth

    real = botocore.auth.get_current_datetime
    seconds = itertools.count()

    def later(*args: Any, **kwargs: Any) -> datetime:
        return real(*args, **kwargs) + timedelta(seconds=next(seconds))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.auth, "get_current_datetime", later)
        yield


def _without_signatures(images: list[dict]) -> list[dict]:
    """Presigned URLs carry the second they were signed; the attached result is what must not change."""
    return [
        {**image, "renditions": [{**r, "url": r["url"].split("?")[0]} for r in image["renditions"]]}
        for image in images
    ]


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (phone_jpeg()[:20_000], "image/jpeg", "corrupt_image"),
        (b"GIF89a" + b"\0" * 500, "image/jpeg", "unsupported_type"),  # lies about its type
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 500, "image/jpeg", "unsupported_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/png", "unsupported_type"),
        (bomb_png(30_000, 30_000), "image/png", "too_many_pixels"),
    ],
)
def test_a_bad_upload_is_deleted_and_the_retailer_sees_why(
    shop_images: Images, data: bytes, content_type: str, code: str
) -> None:
    shop_images.upload(data, content_type)
    shop_images.deliver()
    (image,) = shop_images.listed()
    assert image["status"] == "failed" and image["renditions"] == []
    assert image["failure"]["code"] == code and image["failure"]["message"]
    assert shop_images.keys("uploads/") == [] and shop_images.keys("public/") == []
    assert shop_images.storefront() == []


def test_a_file_larger_than_announced_is_refused(shop_images: Images) -> None:
    # Real S3 refuses it by the policy's content-length-range; moto does not, so processing checks again.
    shop_images.upload(png(), "image/png", size=100)
    shop_images.deliver()
    (image,) = shop_images.listed()
    assert image["failure"]["code"] == "file_too_large"
    assert shop_images.keys("uploads/") == [] and shop_images.keys("public/") == []


def test_a_zero_byte_upload_is_refused(shop_images: Images) -> None:
    shop_images.upload(b"", "image/jpeg", size=1)
    shop_images.deliver()
    (image,) = shop_images.listed()
    assert image["failure"]["code"] == "empty_file"


def test_an_object_outside_the_shops_prefix_is_deleted_and_attaches_nothing(
    shop_images: Images, open_shop: Any
) -> None:
    status, ticket = shop_images.presign("image/png", 5000)
    assert status == 201
    genuine = ticket["upload"]["fields"]["key"]
    other_shop, _ = open_shop(1)
    _, shop_id, product_id, image_id = genuine.split("/")
    forged = [
        f"uploads/{other_shop['id']}/{product_id}/{image_id}",  # the right image under another shop
        f"uploads/{shop_id}/{product_id}/img_doesnotexist00",
        f"uploads/{shop_id}/{product_id}",
        "uploads/../public/x",
    ]
    for key in forged:
        shop_images.s3.put_object(Bucket=BUCKET, Key=key, Body=png(), ContentType="image/png")
    assert shop_images.deliver() == len(forged)
    assert shop_images.keys("uploads/") == [] and shop_images.keys("public/") == []
    assert [i["status"] for i in shop_images.listed()] == ["pending"]


def test_a_message_that_keeps_failing_marks_the_image_failed(shop_images: Images) -> None:
    shop_images.upload(png(), "image/png")
    shop_images.deliver(receive_count=4)  # three earlier deliveries crashed or timed out
    (image,) = shop_images.listed()
    assert image["failure"]["code"] == "processing_failed"
    assert shop_images.keys("uploads/") == []


def test_a_transient_s3_failure_raises_for_a_retry_and_leaves_nothing_half_done(
    shop_images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.images import storage

    shop_images.upload(png(), "image/png")
    (message,) = shop_images.sqs.receive_message(QueueUrl=shop_images.queue_url, AttributeNames=["All"])[
        "Messages"
    ]
    client = storage.s3()
    calls = {"n": 0}
    real_put = client.put_object

    def flaky_put(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "PutObject"
            )
        return real_put(**kwargs)

    monkeypatch.setattr(client, "put_object", flaky_put)
    with pytest.raises(ClientError):
        shop_images.invoke(message)
    assert [i["status"] for i in shop_images.listed()] == ["pending"]
    assert shop_images.keys("uploads/") != []  # kept for the retry
    monkeypatch.undo()

    shop_images.invoke(message, receive_count=2)
    assert [i["status"] for i in shop_images.listed()] == ["ready"]
    assert len(shop_images.keys("public/")) == 3


def test_the_s3_test_event_is_ignored(shop_images: Images) -> None:
    shop_images.invoke(
        {
            "MessageId": "1",
            "ReceiptHandle": "r",
            "Body": json.dumps({"Event": "s3:TestEvent", "Bucket": BUCKET}),
        }
    )
    assert shop_images.listed() == []


# --- managing images -------------------------------------------------------------------------------


def _ready_images(shop_images: Images, count: int) -> list[str]:
    ids = [shop_images.upload(png(300 + i, 200), "image/png")["image"]["id"] for i in range(count)]
    shop_images.deliver()
    return ids


def test_reordering_changes_the_cover_and_the_storefront_order(shop_images: Images) -> None:
    first, second, third = _ready_images(shop_images, 3)
    assert [i["id"] for i in shop_images.storefront()] == [first, second, third]

    path = f"/retailer/products/{shop_images.product_id}/image-order"
    status, body = shop_images.api.call(
        "PUT", path, {"image_ids": [third, first, second]}, key=shop_images.key
    )
    assert status == 200, body
    assert [(i["id"], i["position"]) for i in body["items"]] == [(third, 0), (first, 1), (second, 2)]
    assert [i["id"] for i in shop_images.storefront()] == [third, first, second]


def test_a_reorder_must_list_every_image_once(shop_images: Images) -> None:
    first, second = _ready_images(shop_images, 2)
    path = f"/retailer/products/{shop_images.product_id}/image-order"
    status, error = shop_images.api.call("PUT", path, {"image_ids": [first, first]}, key=shop_images.key)
    assert status == 400 and error["error"]["fields"][0]["field"] == "image_ids"
    status, error = shop_images.api.call("PUT", path, {"image_ids": [second]}, key=shop_images.key)
    assert status == 409 and error["error"]["code"] == "image_order_mismatch"
    assert error["error"]["details"]["image_ids"] == [first, second]
    status, error = shop_images.api.call(
        "PUT", path, {"image_ids": [second, "img_unknown"]}, key=shop_images.key
    )
    assert status == 409
    assert [i["id"] for i in shop_images.storefront()] == [first, second]


def test_alt_text_is_set_by_the_retailer_and_shown_to_storefronts(shop_images: Images) -> None:
    (image_id,) = _ready_images(shop_images, 1)
    path = f"/retailer/products/{shop_images.product_id}/images/{image_id}"
    status, image = shop_images.api.call(
        "PATCH", path, {"alt": "Green felt hat, side view"}, key=shop_images.key
    )
    assert status == 200 and image["alt"] == "Green felt hat, side view"
    assert shop_images.storefront()[0]["alt"] == "Green felt hat, side view"
    status, error = shop_images.api.call("PATCH", path, {"alt": "x" * 251}, key=shop_images.key)
    assert status == 400 and error["error"]["fields"][0]["field"] == "alt"
    assert shop_images.storefront()[0]["alt"] == "Green felt hat, side view"


def test_deleting_an_image_removes_it_and_its_files(shop_images: Images) -> None:
    keep, gone = _ready_images(shop_images, 2)
    path = f"/retailer/products/{shop_images.product_id}/images/{gone}"
    status, body = shop_images.api.call("DELETE", path, key=shop_images.key)
    assert status == 204 and body is None
    assert [i["id"] for i in shop_images.storefront()] == [keep]
    assert not [k for k in shop_images.keys("public/") if f"/{gone}/" in k]
    assert len(shop_images.keys("public/")) == 3
    assert shop_images.api.call("DELETE", path, key=shop_images.key)[0] == 404


def test_an_image_deleted_while_processing_leaves_no_files(shop_images: Images) -> None:
    ticket = shop_images.upload(png(), "image/png")
    path = f"/retailer/products/{shop_images.product_id}/images/{ticket['image']['id']}"
    assert shop_images.api.call("DELETE", path, key=shop_images.key)[0] == 204
    shop_images.s3.put_object(  # the upload lands after the delete removed it
        Bucket=BUCKET, Key=ticket["upload"]["fields"]["key"], Body=png(), ContentType="image/png"
    )
    shop_images.deliver()
    assert shop_images.keys("uploads/") == [] and shop_images.keys("public/") == []
    assert shop_images.listed() == []


def test_a_product_has_at_most_ten_images_and_failed_uploads_do_not_count(shop_images: Images) -> None:
    for _ in range(MAX_IMAGES - 1):
        assert shop_images.presign("image/png", 5000)[0] == 201
    shop_images.upload(b"not an image", "image/png")  # the tenth fails...
    shop_images.deliver()
    status, ticket = shop_images.presign("image/png", 5000)  # ...so its slot can be used again
    assert status == 201, ticket
    status, error = shop_images.presign("image/png", 5000)
    assert status == 409 and error["error"]["code"] == "too_many_images"
    # With every slot taken, the new upload replaced the failed one's record.
    assert [i["status"] for i in shop_images.listed()] == ["pending"] * MAX_IMAGES


def test_another_shop_cannot_see_or_touch_the_images(shop_images: Images, open_shop: Any) -> None:
    (image_id,) = _ready_images(shop_images, 1)
    _, other_key = open_shop(1)
    base = f"/retailer/products/{shop_images.product_id}"
    attempts = [
        ("POST", f"{base}/images", {"content_type": "image/png", "size_bytes": 10}),
        ("GET", f"{base}/images", None),
        ("PATCH", f"{base}/images/{image_id}", {"alt": "mine now"}),
        ("DELETE", f"{base}/images/{image_id}", None),
        ("PUT", f"{base}/image-order", {"image_ids": [image_id]}),
    ]
    for method, path, body in attempts:
        status, error = shop_images.api.call(method, path, body, key=other_key)
        assert status == 404, (method, path, error)
        assert error["error"]["code"] == "product_not_found"
    (image,) = shop_images.listed()
    assert image["id"] == image_id and image["alt"] == "" and image["status"] == "ready"
    assert len(shop_images.keys("public/")) == 3


def test_a_suspended_shop_cannot_upload(shop_images: Images, operator_key: str) -> None:
    shop_id = shop_images.api.call("GET", "/retailer/shop", key=shop_images.key)[1]["id"]
    assert shop_images.api.call("POST", f"/operator/shops/{shop_id}/suspend", key=operator_key)[0] == 200
    status, error = shop_images.presign("image/png", 5000)
    assert status == 403 and error["error"]["code"] == "shop_suspended"
    assert shop_images.listed() == []


def test_the_retailers_product_view_carries_pending_and_failed_images(shop_images: Images) -> None:
    shop_images.upload(b"junk", "image/png")
    shop_images.deliver()
    shop_images.presign("image/jpeg", 5000)
    status, product = shop_images.api.call(
        "GET", f"/retailer/products/{shop_images.product_id}", key=shop_images.key
    )
    assert status == 200
    assert [i["status"] for i in product["images"]] == ["pending", "failed"]
    assert product["images"][1]["failure"]["code"] == "unsupported_type"


# --- wiring ----------------------------------------------------------------------------------------


def test_the_stack_sends_new_uploads_and_only_those_to_the_processing_queue(aws: dict[str, str]) -> None:
    from app import app

    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    queue_url = aws["ImageUploadQueueUrl"]
    (wired,) = s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"]
    assert wired["QueueArn"] == aws["ImageUploadQueueArn"]
    assert wired["Events"] == ["s3:ObjectCreated:*"]
    assert wired["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]

    sqs.purge_queue(QueueUrl=queue_url)
    s3.put_object(Bucket=BUCKET, Key="public/a/b/c/200.webp", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="uploads/a/b/c", Body=b"x")
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    key = json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"]
    assert unquote_plus(key) == "uploads/a/b/c"  # event keys are URL-encoded (moto also encodes "/")

    # The handler listens to the queue the stack created (the name chalice deploy resolves at import).
    (source,) = [s for s in app.event_sources if s.name == "process_image_uploads"]
    assert source.queue == aws["ImageUploadQueueName"] and source.batch_size == 1

    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":digital-mall-test-image-uploads-dlq")
    assert redrive["maxReceiveCount"] > 3  # the handler gives up (and says so) on the 4th delivery
    config = json.loads((Path(__file__).parents[2] / ".chalice" / "config.json").read_text())
    for stage in ("dev", "prod"):
        function = config["stages"][stage]["lambda_functions"]["process_image_uploads"]
        # AWS: a queue's visibility timeout should be at least six times its function's timeout.
        assert int(attributes["VisibilityTimeout"]) >= 6 * function["lambda_timeout"]
        assert (Path(__file__).parents[2] / ".chalice" / function["iam_policy_file"]).exists()


def test_product_lists_search_and_cart_lines_carry_the_cover_s_200_px_rendition(shop_images: Images) -> None:
    """The cover follows the images (ready, reordered, deleted) onto every list without a read per product."""
    api, pid = shop_images.api, shop_images.product_id
    status, product = api.call("GET", f"/products/{pid}")
    assert status == 200
    word = product["name"].split()[0]
    views = (f"/shops/{product['shop_id']}/products", f"/products?category={product['category']}",
             f"/products?q={word}")  # fmt: skip
    created = api.call(
        "POST", "/carts", {"lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}]}
    )
    cart_id, token = created[1]["cart"]["id"], created[1]["cart_token"]

    def covers() -> set[str | None]:
        found = set()
        for path in views:
            status, page = api.call("GET", path)
            assert status == 200, page
            found |= {item["cover_url"] for item in page["items"] if item["id"] == pid}
        cart = api.http.get(f"/carts/{cart_id}", headers={"X-Cart-Token": token})
        found |= {line["cover_url"] for shop in json.loads(cart.body)["shops"] for line in shop["lines"]}
        return {urlsplit(url).path if url else None for url in found}

    def small(image_id: str) -> str:
        (image,) = [i for i in shop_images.storefront() if i["id"] == image_id]
        return urlsplit(image["renditions"][0]["url"]).path

    assert covers() == {None}
    first, second = _ready_images(shop_images, 2)
    assert small(first).endswith("/200.webp")
    assert covers() == {small(first)}

    order = f"/retailer/products/{pid}/image-order"
    assert api.call("PUT", order, {"image_ids": [second, first]}, key=shop_images.key)[0] == 200
    assert covers() == {small(second)}

    gone = api.call("DELETE", f"/retailer/products/{pid}/images/{second}", key=shop_images.key)
    assert gone[0] == 204
    assert covers() == {small(first)}
    assert api.call("DELETE", f"/retailer/products/{pid}/images/{first}", key=shop_images.key)[0] == 204
    assert covers() == {None}


def test_a_cover_change_racing_a_product_edit_is_read_again_and_written(shop_images: Images) -> None:
    from chalicelib.images.cover import refresh_cover
    from chalicelib.images.models import ImageItem
    from chalicelib.images.service import product_and_images

    api, pid = shop_images.api, shop_images.product_id
    first, second = _ready_images(shop_images, 2)
    stale_product, images = product_and_images(pid)
    # The retailer renames the product meanwhile (its version moves on, its search entries are rewritten).
    assert (
        api.call("PATCH", f"/retailer/products/{pid}", {"name": "Renamed hat"}, key=shop_images.key)[0] == 200
    )
    (gone,) = [i for i in images if i.image_id == first]
    ImageItem(gone.pk, gone.sk).delete()

    refresh_cover(pid, (stale_product, [i for i in images if i is not gone]))

    product, _ = product_and_images(pid)
    assert product is not None and product.cover_key is not None
    assert product.cover_key.endswith(f"/{second}/200.webp")
    status, page = api.call("GET", "/products?q=renamed")
    assert status == 200
    assert [urlsplit(i["cover_url"]).path.endswith(f"/{second}/200.webp") for i in page["items"]] == [True]
