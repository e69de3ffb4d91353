"""Retailer webhooks on the wire."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

WebhookUrl = Annotated[
    str,
    Meta(
        min_length=9,
        max_length=2048,
        description="https:// URL that receives the shop's order events (http://localhost only locally)",
    ),
]


class WebhookIn(Struct, forbid_unknown_fields=True):
    url: WebhookUrl


class LastDelivery(Struct):
    event_id: str
    status: str  # delivered | retrying | failed | dropped
    http_status: int | None
    at: str


class Webhook(Struct):
    url: str
    created_at: str
    last_delivery: LastDelivery | None = None


class CreatedWebhook(Struct):
    webhook: Webhook
    secret: Annotated[
        str,
        Meta(
            description="Signs every delivery (Mall-Signature header). Shown once; registering again issues "
            "a new one."
        ),
    ]
