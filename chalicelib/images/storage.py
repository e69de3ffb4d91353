"""The image bucket: object keys, presigned forms and URLs, and the lazily created S3 client.

Key layout (the bucket's prefixes are set up in infra/mall-stack.yaml):
    uploads/<shop>/<product>/<image>            what a retailer uploads; deleted once processed
    public/<shop>/<product>/<image>/<box>.webp  renditions, immutable, served through IMAGE_BASE_URL
Every id is [a-z0-9_-], so a key never needs escaping and never contains "..".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from chalicelib.core.clock import iso, now
from chalicelib.core.config import settings
from chalicelib.core.log import logger

RENDITION_BOXES = (200, 600, 1200)
UPLOADS = "uploads/"
PUBLIC = "public/"
PRESIGNED_GET_SECONDS = 3600
_UPLOAD_KEY = re.compile(r"^uploads/([a-z0-9_-]{1,64})/([a-z0-9_-]{1,64})/([a-z0-9_-]{1,64})$")


@dataclass(frozen=True)
class UploadRef:
    shop_id: str
    product_id: str
    image_id: str


def upload_key(shop_id: str, product_id: str, image_id: str) -> str:
    return f"{UPLOADS}{shop_id}/{product_id}/{image_id}"


def parse_upload_key(key: str) -> UploadRef | None:
    match = _UPLOAD_KEY.match(key)
    return UploadRef(*match.groups()) if match else None


def rendition_key(shop_id: str, product_id: str, image_id: str, box: int) -> str:
    return f"{PUBLIC}{shop_id}/{product_id}/{image_id}/{box}.webp"


def all_keys(shop_id: str, product_id: str, image_id: str) -> list[str]:
    """Every object an image can own, whatever its status."""
    renditions = [rendition_key(shop_id, product_id, image_id, box) for box in RENDITION_BOXES]
    return [upload_key(shop_id, product_id, image_id), *renditions]


@cache
def s3() -> Any:
    """One client per container, created on first use: the API's cold start never pays for it.

    botocore alone (no boto3): it already provides generate_presigned_post. With no endpoint override
    (AWS_ENDPOINT_URL[_S3], as the local stack sets) the regional virtual-host endpoint is used, so a
    browser posts to https://<bucket>.s3.<region>.amazonaws.com/ without a redirect a CORS request
    cannot follow.
    """
    import botocore.session
    from botocore.config import Config

    region = settings().region
    custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if custom else "virtual"},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=20,
    )
    return botocore.session.get_session().create_client(
        "s3",
        region_name=region,
        endpoint_url=None if custom else f"https://s3.{region}.amazonaws.com",
        config=config,
    )


def presigned_post(key: str, content_type: str, max_bytes: int) -> tuple[str, dict[str, str], str]:
    """A form that lets its holder create exactly `key`, of that content type and at most `max_bytes`,
    for UPLOAD_SECONDS. Real S3 enforces these conditions; processing checks the object again anyway."""
    from chalicelib.images.schemas import UPLOAD_SECONDS

    expires_at = iso(now() + timedelta(seconds=UPLOAD_SECONDS))
    form = s3().generate_presigned_post(
        Bucket=settings().image_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return form["url"], dict(form["fields"]), expires_at


def public_url(key: str) -> str:
    """IMAGE_BASE_URL + key when the stage has a CDN (or, locally, the moto server); otherwise a presigned
    GET, which works on a fresh stage but changes on every response and so defeats browser caching."""
    base = settings().image_base_url
    if base:
        return f"{base.rstrip('/')}/{key}"
    return str(
        s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": settings().image_bucket, "Key": key},
            ExpiresIn=PRESIGNED_GET_SECONDS,
        )
    )


def delete_objects(keys: Iterable[str]) -> None:
    """Best effort: an object that cannot be deleted now is logged, never an error for the caller (the
    uploads/ prefix also expires by lifecycle rule)."""
    wanted = [{"Key": key} for key in keys]
    if not wanted:
        return
    try:
        result = s3().delete_objects(
            Bucket=settings().image_bucket, Delete={"Objects": wanted, "Quiet": True}
        )
        failed = [e.get("Key") for e in result.get("Errors", [])]
    except Exception:
        logger.exception("image objects not deleted", extra={"keys": [k["Key"] for k in wanted]})
        return
    if failed:
        logger.error("image objects not deleted", extra={"keys": failed})
