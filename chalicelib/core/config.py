"""Settings the app reads from its environment (set per stage in .chalice/config.json)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    image_bucket: str
    # Where storefronts fetch image renditions: a CDN domain in front of the bucket, or locally the moto
    # server's URL + bucket. Empty: presigned GET URLs (chalicelib/images/storage.py).
    image_base_url: str
    # Chalice reads it when it imports app.py to deploy (with the stage's environment_variables applied).
    image_queue_name: str
    # The payout worker's queue (infra/mall-stack.yaml), also read when chalice imports app.py to deploy.
    payout_queue_name: str
    # The relist worker's queue (chalicelib/catalog/relisting.py), likewise.
    relist_queue_name: str
    region: str
    # Who may call the API from a browser: `*` or one origin (chalicelib/api/cors.py), set per stage.
    cors_allow_origin: str = "*"


@cache
def settings() -> Settings:
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        table_name=os.environ.get("TABLE_NAME", "digital-mall-dev"),
        image_bucket=os.environ.get("IMAGE_BUCKET", ""),
        image_base_url=os.environ.get("IMAGE_BASE_URL", ""),
        image_queue_name=os.environ.get("IMAGE_QUEUE_NAME")
        or f"digital-mall-{os.environ.get('STAGE', 'dev')}-image-uploads",
        payout_queue_name=os.environ.get("PAYOUT_QUEUE_NAME")
        or f"digital-mall-{os.environ.get('STAGE', 'dev')}-payouts",
        relist_queue_name=os.environ.get("RELIST_QUEUE_NAME")
        or f"digital-mall-{os.environ.get('STAGE', 'dev')}-relist",
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1",
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    )


def payments_simulated() -> bool:
    """PAYMENT_GATEWAY=simulated (make run, the tests): the simulated provider and its pages. Read on each
    call, not cached with the settings: tests switch it."""
    return os.environ.get("PAYMENT_GATEWAY", "stripe") == "simulated"
