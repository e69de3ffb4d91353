"""Retailer API: the shop's webhook for its order events (chalicelib/notify/webhooks.py)."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.notify.schemas import CreatedWebhook, Webhook, WebhookIn

webhooks = lazy("chalicelib.notify.webhooks")
TAG = "Retailer"


@endpoint(
    "PUT",
    "/retailer/webhook",
    summary="Register (or replace) my shop's webhook; returns its signing secret once",
    tag=TAG,
    auth=Role.RETAILER,
    body=WebhookIn,
    response=CreatedWebhook,
)
def register_webhook(principal: Principal, body: WebhookIn) -> CreatedWebhook:
    return webhooks.register(principal, body)


@endpoint(
    "GET",
    "/retailer/webhook",
    summary="My shop's webhook and its last delivery (never the secret)",
    tag=TAG,
    auth=Role.RETAILER,
    response=Webhook,
    errors=(404,),
)
def my_webhook(principal: Principal) -> Webhook:
    return webhooks.describe(principal)


@endpoint(
    "DELETE",
    "/retailer/webhook",
    summary="Remove my shop's webhook; deliveries still pending for it are dropped",
    tag=TAG,
    auth=Role.RETAILER,
    status=204,
    errors=(404,),
)
def remove_webhook(principal: Principal) -> None:
    webhooks.unregister(principal)
