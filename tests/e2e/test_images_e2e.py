"""Product images end to end over real HTTP against the local stack (tests/e2e/conftest.py's session stack,
started as `make run` starts it): presigned POST straight to the moto server's S3, the S3 -> SQS event
picked up by the stack's upload processor and handed to the `process_image_uploads` Lambda handler, and
the thumbnails served over HTTP from the URLs storefronts get.
"""

from __future__ import annotations

import io
import itertools
import time
from typing import Any

import boto3
import pytest
import requests
from PIL import Image, ImageDraw

from tools.demo_data import demo_shops
from tools.local_stack import DEMO_IMAGES_PER_SHOP

pytestmark = pytest.mark.e2e

PROCESSING_TIMEOUT_S = 30.0
_serial = itertools.count(1)


def phone_jpeg() -> bytes:
    """Stored landscape with orientation 6 (the phone was held upright) and the shop's GPS position."""
    image = Image.new("RGB", (1600, 1200), (200, 40, 40))
    ImageDraw.Draw(image).rectangle((800, 0, 1600, 1200), fill=(40, 40, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 3.0, 15.5), 3: "E", 4: (3.0, 43.0, 19.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy between us and 127.0.0.1
    return session


def s3_of(info: dict[str, Any]) -> Any:
    """A client of the stack's moto server, by explicit endpoint: this process's environment is untouched."""
    return boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint"],
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token=None,
    )


@pytest.fixture(scope="module")
def own_shop(api: Any, info: dict[str, Any]) -> tuple[str, str]:
    """A shop of this module's own, so the demo shops other tests count stay as seeded."""
    body = demo_shops()[5]
    body.pop("key")
    body["name"] = f"E2E Fotostudio {next(_serial)}"
    created = api.ok("POST", "/operator/shops", 201, key=info["operator_key"], body=body)
    return created["shop"]["id"], created["api_key"]


def new_product(api: Any, key: str, name: str) -> str:
    body = {
        "name": name,
        "category": "bakery",
        "vat_rate_bps": 600,
        "variants": [{"sku": f"E2E-IMG-{next(_serial)}", "price_cents": 395, "stock": 3}],
    }
    return str(api.ok("POST", "/retailer/products", 201, key=key, body=body)["id"])


def upload(api: Any, key: str, product_id: str, data: bytes, content_type: str) -> dict[str, Any]:
    body = {"content_type": content_type, "size_bytes": len(data), "alt": "Front of the box"}
    ticket = api.ok("POST", f"/retailer/products/{product_id}/images", 201, key=key, body=body)
    form = ticket["upload"]
    # As a browser does: multipart/form-data, the policy's fields first and the file last.
    response = http().post(
        form["url"], data=form["fields"], files={"file": ("photo", data, content_type)}, timeout=30
    )
    assert response.status_code == 204, response.text
    return dict(ticket["image"])


def settled(api: Any, key: str, product_id: str, image_id: str) -> dict[str, Any]:
    """Polls the retailer's view until the upload processor has dealt with the image."""
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while True:
        items = api.get(f"/retailer/products/{product_id}/images", key=key)["items"]
        image = next(i for i in items if i["id"] == image_id)
        if image["status"] != "pending":
            return dict(image)
        assert time.monotonic() < deadline, f"image {image_id} still pending after {PROCESSING_TIMEOUT_S} s"
        time.sleep(0.2)


def test_a_phone_photo_goes_from_presigned_post_to_served_thumbnails(
    api: Any, info: dict[str, Any], own_shop: tuple[str, str]
) -> None:
    shop_id, key = own_shop
    product_id = new_product(api, key, "Speculoos gift box")
    image = upload(api, key, product_id, phone_jpeg(), "image/jpeg")
    assert image["status"] == "pending"

    ready = settled(api, key, product_id, image["id"])
    assert ready["status"] == "ready", ready
    assert (ready["width"], ready["height"]) == (1200, 1600)  # upright

    (shown,) = api.get(f"/products/{product_id}")["images"]
    assert shown["id"] == image["id"] and shown["alt"] == "Front of the box" and shown["position"] == 0
    assert [(r["size"], r["width"], r["height"]) for r in shown["renditions"]] == [
        (200, 150, 200),
        (600, 450, 600),
        (1200, 900, 1200),
    ]
    base = f"{info['aws_endpoint']}/{info['image_bucket']}/public/{shop_id}/{product_id}/{image['id']}/"
    for rendition in shown["renditions"]:
        assert rendition["url"] == f"{base}{rendition['size']}.webp"  # IMAGE_BASE_URL, stable
        served = http().get(rendition["url"], timeout=30)  # anonymous, as a browser
        assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
        with Image.open(io.BytesIO(served.content)) as webp:
            assert webp.size == (rendition["width"], rendition["height"])
            assert not webp.getexif() and "exif" not in webp.info
            top = webp.convert("RGB").getpixel((webp.width // 2, webp.height // 4))
            assert top[0] > 150 > top[2]  # the sensor's left (red) half is on top once upright

    s3 = s3_of(info)
    uploads = s3.list_objects_v2(Bucket=info["image_bucket"], Prefix=f"uploads/{shop_id}/")
    assert uploads.get("KeyCount", 0) == 0, "the original, with its GPS position, must be deleted"
    private = http().get(f"{info['aws_endpoint']}/{info['image_bucket']}/uploads/{shop_id}/x", timeout=30)
    assert private.status_code in (403, 404)

    api.ok("DELETE", f"/retailer/products/{product_id}/images/{image['id']}", 204, key=key)
    assert api.get(f"/products/{product_id}")["images"] == []
    gone = http().get(shown["renditions"][0]["url"], timeout=30)
    assert gone.status_code in (403, 404)


def test_a_file_that_lies_about_its_type_is_refused_and_the_retailer_sees_why(
    api: Any, info: dict[str, Any], own_shop: tuple[str, str]
) -> None:
    shop_id, key = own_shop
    product_id = new_product(api, key, "Mystery parcel")
    gif = io.BytesIO()
    Image.new("RGB", (300, 300), (1, 2, 3)).save(gif, "GIF")
    image = upload(api, key, product_id, gif.getvalue(), "image/jpeg")

    failed = settled(api, key, product_id, image["id"])
    assert failed["status"] == "failed" and failed["renditions"] == []
    assert failed["failure"]["code"] == "unsupported_type" and "GIF" in failed["failure"]["message"]
    assert api.get(f"/products/{product_id}")["images"] == []
    s3 = s3_of(info)
    for prefix in (f"uploads/{shop_id}/{product_id}/", f"public/{shop_id}/{product_id}/"):
        assert s3.list_objects_v2(Bucket=info["image_bucket"], Prefix=prefix).get("KeyCount", 0) == 0


def test_demo_products_come_with_generated_thumbnails(api: Any, info: dict[str, Any]) -> None:
    products, _ = api.walk(f"/shops/{info['retailer_shop_id']}/products", page_size=100)
    pictured = [p for p in (api.get(f"/products/{s['id']}") for s in products) if p["images"]]
    assert len(pictured) == DEMO_IMAGES_PER_SHOP
    for product in pictured:
        (image,) = product["images"]
        assert image["status"] == "ready" and image["alt"] == product["name"]
        thumbnail = image["renditions"][0]
        served = http().get(thumbnail["url"], timeout=30)
        assert served.status_code == 200
        with Image.open(io.BytesIO(served.content)) as webp:
            assert webp.format == "WEBP" and webp.size == (200, 200)
