"""Retailer webhooks: registration, signing, and the delivery attempts with exponential backoff.

A delivery is at least once: a POST whose answer is lost is sent again, with the same ``Mall-Event-Id``
and body, so the receiver dedupes on that id. The order flow never waits for any of this: it only wrote
its event; the relay (chalicelib/notify/relay.py) turns events into deliveries and sends them later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib.auth.service import Principal
from chalicelib.core import metrics
from chalicelib.core.clock import iso, now, stamp
from chalicelib.core.config import settings
from chalicelib.core.db import shard_partitions
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.log import logger
from chalicelib.notify import addresses
from chalicelib.notify.models import (
    DELIVERED,
    DROPPED,
    DUE_PARTITION,
    DUE_SHARDS,
    FAILED,
    PENDING,
    DeliveryItem,
    WebhookItem,
)
from chalicelib.notify.schemas import CreatedWebhook, LastDelivery, Webhook, WebhookIn

TIMEOUT_SECONDS = 5
# Shops served at once by one run of the delivery job: the threads mostly wait on the network, and a dead
# endpoint ties up one of them for one timeout a run.
WORKERS = 32
# Waits after the 1st, 2nd, ... failed attempt; after the last one the delivery is `failed`.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# An attempt claims its delivery until then: a relay that dies mid-POST leaves it to be retried, and a
# concurrent relay does not send it at the same time.
CLAIM = timedelta(seconds=2 * TIMEOUT_SECONDS + 30)
DELIVERY_TTL = timedelta(days=30)
_LOCAL_STAGES = ("local", "test")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class WebhookNotFound(NotFound):
    code = "webhook_not_found"

    def __init__(self, shop_id: str) -> None:
        super().__init__("webhook", shop_id)


# --- registration -------------------------------------------------------------------------------------


def validate_url(url: str) -> str:
    """https only, to a public host. Plain http to loopback is allowed on local/test stages, where the
    receiver is a developer's own server; elsewhere a private or loopback target would let a retailer make
    the mall call its own network (SSRF)."""
    bad = InvalidInput.single
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise bad("url", "must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("url", "is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise bad("url", "must name a host")
    if parts.username is not None or parts.password is not None:
        raise bad("url", "must not contain credentials")
    if parts.fragment:
        raise bad("url", "must not contain a fragment")
    local = settings().stage in _LOCAL_STAGES
    if parts.scheme == "http" and local and addresses.normalise_host(host) in _LOOPBACK_HOSTS:
        return url
    if parts.scheme != "https":
        raise bad("url", "must be an https:// URL")
    if not local and not addresses.is_public_host(host):
        raise bad("url", "must be a public host")
    if port is not None and not 0 < port < 65536:
        raise bad("url", "has an invalid port")
    return url


def register(principal: Principal, body: WebhookIn) -> CreatedWebhook:
    """Creates or replaces the shop's webhook with a new secret. Deliveries still pending for a replaced
    webhook are dropped when their turn comes (they were meant for the old URL and secret)."""
    shop_id = principal.require_writable_shop()
    url = validate_url(body.url)
    secret = "whsec_" + secrets.token_hex(32)
    item = WebhookItem(*WebhookItem.key_for(shop_id), shop_id=shop_id, url=url, secret=secret)
    # Microseconds: two registrations in one second must still tell their deliveries apart.
    item.created_at = stamp(now())
    item.save()
    # The URL's host only: paths can carry tokens. Never the secret.
    logger.info("webhook registered", extra={"shop_id": shop_id, "host": urlsplit(url).hostname})
    return CreatedWebhook(Webhook(url, item.created_at), secret)


def unregister(principal: Principal) -> None:
    shop_id = principal.require_writable_shop()
    try:
        WebhookItem(*WebhookItem.key_for(shop_id)).delete(condition=WebhookItem.pk.exists())
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise WebhookNotFound(shop_id) from None
        raise


def shop_webhook(shop_id: str) -> WebhookItem | None:
    try:
        return WebhookItem.get(*WebhookItem.key_for(shop_id))
    except WebhookItem.DoesNotExist:
        return None


def describe(principal: Principal) -> Webhook:
    shop_id = principal.shop_id or ""
    item = shop_webhook(shop_id)
    if item is None:
        raise WebhookNotFound(shop_id)
    last = None
    if item.last_event_id and item.last_status and item.last_attempt_at:
        status = int(item.last_http_status) if item.last_http_status is not None else None
        last = LastDelivery(item.last_event_id, item.last_status, status, item.last_attempt_at)
    return Webhook(item.url, item.created_at, last)


# --- deliveries ---------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Mall-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>.
    The timestamp is signed too, so a receiver can refuse old (replayed) deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def create_delivery(
    shop_id: str, webhook: WebhookItem, event_id: str, event_type: str, body: str, event_at: str
) -> None:
    """Due at once, ordered by the event's time so a shop receives its events in the order they happened;
    a delivery that exists already (the event was relayed before) is left as it is."""
    moment = now()
    item = DeliveryItem(
        *DeliveryItem.key_for(shop_id, event_id),
        shop_id=shop_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        webhook_created_at=webhook.created_at,
        status=PENDING,
        attempts=0,
        created_at=iso(moment),
        updated_at=iso(moment),
        expires_at=int((moment + DELIVERY_TTL).timestamp()),
    )
    item.due_at(event_at)
    try:
        item.save(condition=DeliveryItem.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


@dataclass(frozen=True)
class Attempt:
    ok: bool
    http_status: int | None
    error: str | None


def deliver_due(limit: int = 1000, budget_seconds: float = 40.0, workers: int = WORKERS) -> dict[str, int]:
    """Attempts the deliveries that are due: one Query per shard (at most ``limit`` from each), then each
    shop's deliveries on a thread pool, so a slow or dead endpoint holds up only its own shop (each POST
    gives up after TIMEOUT_SECONDS). No shop's turn starts after ``budget_seconds``. Never raises for one
    delivery: it is logged and retried later. Returns how many ended in each status."""
    deadline = time.monotonic() + budget_seconds
    cutoff = f"{stamp(now())}~"
    by_shop: dict[str, list[DeliveryItem]] = {}
    for partition in shard_partitions(DUE_PARTITION, DUE_SHARDS):
        for item in DeliveryItem.gsi3.query(partition, DeliveryItem.gsi3sk < cutoff, limit=limit):
            if isinstance(item, DeliveryItem):
                by_shop.setdefault(item.shop_id, []).append(item)
    counts: Counter[str] = Counter()
    if not by_shop:
        return {}
    with ThreadPoolExecutor(max_workers=min(workers, len(by_shop)), thread_name_prefix="webhooks") as pool:
        for outcomes in pool.map(lambda items: _deliver_shop(items, deadline), by_shop.values()):
            counts.update(outcomes)
    return dict(counts)


def _deliver_shop(items: list[DeliveryItem], deadline: float) -> list[str]:
    """One shop's due deliveries, oldest first, one at a time: a shop receives its events in order. A
    failed attempt ends the shop's turn (its other deliveries wait for the next run), so a dead endpoint
    costs one timeout a run, not one per event."""
    outcomes: list[str] = []
    try:
        webhook = shop_webhook(items[0].shop_id)
    except Exception:
        logger.exception("webhook lookup failed", extra={"shop_id": items[0].shop_id})
        return outcomes
    for item in items:
        if time.monotonic() > deadline:
            break
        try:
            outcome = _attempt(item, webhook)
        except Exception:
            logger.exception("webhook delivery step failed", extra={"event_id": item.event_id})
            break
        if outcome:
            outcomes.append(outcome)
        if outcome == PENDING:
            break
    return outcomes


def _attempt(item: DeliveryItem, webhook: WebhookItem | None) -> str | None:
    moment = now()
    if webhook is None or webhook.created_at != item.webhook_created_at:
        _finish(item, DROPPED, None, "webhook removed or replaced", moment)
        return DROPPED
    if not _claim(item, moment):
        return None  # another relay has it
    result = post(webhook.url, webhook.secret, item.event_id, item.body.encode())
    if result.ok:
        status = DELIVERED
    elif item.attempts >= MAX_ATTEMPTS:
        status = FAILED
    else:
        status = PENDING
    _finish(item, status, result.http_status, result.error, moment)
    _record_on_webhook(webhook, item, status, result.http_status, moment)
    if status == FAILED:
        metrics.count("WebhookDeliveriesFailed")
        logger.warning(
            "webhook delivery failed for good",
            extra={"shop_id": item.shop_id, "event_id": item.event_id, "attempts": item.attempts},
        )
    return status


def _claim(item: DeliveryItem, moment: datetime) -> bool:
    """Counts the attempt before it is made, conditional on the count read, so concurrent relays never
    both send one attempt, and pushes it out of the due range for CLAIM."""
    read = int(item.attempts)
    item.due_at(stamp(moment + CLAIM))
    try:
        item.update(
            actions=[
                DeliveryItem.attempts.set(read + 1),
                DeliveryItem.next_attempt_at.set(item.next_attempt_at),
                DeliveryItem.gsi3sk.set(item.gsi3sk),
            ],
            condition=(DeliveryItem.attempts == read) & (DeliveryItem.status == PENDING),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _finish(
    item: DeliveryItem, status: str, http_status: int | None, error: str | None, moment: datetime
) -> None:
    actions = [
        DeliveryItem.status.set(status),
        DeliveryItem.updated_at.set(iso(moment)),
        DeliveryItem.last_error.set(error) if error else DeliveryItem.last_error.remove(),
        DeliveryItem.last_http_status.set(http_status)
        if http_status is not None
        else DeliveryItem.last_http_status.remove(),
    ]
    if status == PENDING:
        wait = BACKOFF[min(int(item.attempts), len(BACKOFF)) - 1]
        item.due_at(stamp(moment + wait))
        actions += [
            DeliveryItem.next_attempt_at.set(item.next_attempt_at),
            DeliveryItem.gsi3pk.set(item.gsi3pk),
            DeliveryItem.gsi3sk.set(item.gsi3sk),
        ]
    else:
        actions += [
            DeliveryItem.next_attempt_at.remove(),
            DeliveryItem.gsi3pk.remove(),
            DeliveryItem.gsi3sk.remove(),
        ]
    # Never recreate a delivery that expired (TTL) meanwhile as a partial item.
    item.update(actions=actions, condition=DeliveryItem.pk.exists())


def _record_on_webhook(
    webhook: WebhookItem, item: DeliveryItem, status: str, http_status: int | None, moment: datetime
) -> None:
    shown = "retrying" if status == PENDING else status
    actions = [
        WebhookItem.last_event_id.set(item.event_id),
        WebhookItem.last_status.set(shown),
        WebhookItem.last_attempt_at.set(iso(moment)),
        WebhookItem.last_http_status.set(http_status)
        if http_status is not None
        else WebhookItem.last_http_status.remove(),
    ]
    try:
        # Only on the webhook the delivery was for: never resurrect a deleted one as a partial item.
        webhook.update(actions=actions, condition=WebhookItem.created_at == item.webhook_created_at)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _public_only() -> bool:
    # Local and test stages post to a developer's own server on loopback.
    return settings().stage not in _LOCAL_STAGES


def post(url: str, secret: str, event_id: str, body: bytes) -> Attempt:
    """One signed POST; any 2xx is success, a redirect is a failure (it could point anywhere). Never
    raises: every failure is an Attempt to retry. Outside local stages the host is resolved once, every
    address checked public, and the connection made to the checked one (chalicelib/notify/addresses.py)."""
    import http.client  # by the relay only, never on the API's cold start

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = addresses.checked_address(host, port, public_only=True) if _public_only() else host
    except addresses.NotPublic:
        return Attempt(False, None, "host does not resolve to a public address")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "digital-mall-webhooks/1",
        "Mall-Event-Id": event_id,
        "Mall-Signature": sign(secret, int(time.time()), body),
    }
    try:
        connection = addresses.pinned_connection(parts.scheme, host, address, port, TIMEOUT_SECONDS)
        try:
            connection.request("POST", target, body=body, headers=headers)
            status = int(connection.getresponse().status)
        finally:
            connection.close()
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timed out, TLS, bad answer
        return Attempt(False, None, type(error).__name__)
    return Attempt(200 <= status < 300, status, None if 200 <= status < 300 else f"HTTP {status}")
