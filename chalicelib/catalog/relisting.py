"""Shop-wide relisting, off the request: the relist worker behind the relist queue.

A change to a shop that its products carry (suspension, reactivation, a new name, fulfilment terms, hours)
is recorded on the shop itself: the shop's write increments `listing_version` (chalicelib/shop/service.py)
and the request answers at once. One message per change ({"shop_id", "listing_version"}) goes to the relist
queue (infra/mall-stack.yaml); this worker pages through the shop's products by key (gsi1
`SHOP#<shop>#PRODUCTS`, never a Scan) and rewrites each one's listing to the shop's *current* state,
stamping `shop_listing_version`.

Idempotent and resumable: a product already at the shop's version is skipped, each rewrite is conditional
on the product's own version (a concurrent edit or a newer relisting makes us re-read, never overwrite), so
a redelivered, stale or duplicated message does nothing harmful and a crashed run resumes where products
still lag. Until a suspension is relisted, storefront reads filter out products of shops that are not active
(chalicelib/catalog/service.py), so a suspended shop's products never show in between.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.catalog.listing import (
    apply_listing,
    entry_keys_of,
    product_words,
    shop_terms_of,
    stage_listing,
)
from chalicelib.catalog.models import ProductItem, VariantItem
from chalicelib.core.config import settings
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.log import logger
from chalicelib.shop.models import ShopItem

# A product rewrite that keeps losing to concurrent edits is retried this often within one run; after that
# the run carries on with the other products and fails at the end, so SQS delivers the message again.
_ATTEMPTS = 5
# The worker Lambda's timeout is 60 s (.chalice/config.json): a run stops taking new products after this
# long and queues its own continuation, so a shop of any size is relisted in bounded runs.
DEFAULT_BUDGET_SECONDS = 40.0
# Products rewritten at once: each is one transaction, latency-bound, so a few threads cut a big shop's
# wait several times over while staying far below the table's write capacity.
WORKERS = 8

Sender = Callable[[dict[str, Any]], None]


def queue_name() -> str:
    """The stage's RELIST_QUEUE_NAME (chalicelib/core/config.py), as app.py names it for chalice deploy."""
    return settings().relist_queue_name


@dataclass(frozen=True)
class RelistRun:
    shop_id: str
    listing_version: int
    rewritten: int
    skipped: int
    failed: int
    finished: bool  # False: the time budget ran out and a continuation message was queued


class RelistingIncomplete(Exception):
    """Some products could not be rewritten; raised so that SQS delivers the message again."""


def request_relisting(shop_id: str, listing_version: int, send: Sender | None = None) -> bool:
    """Queues the relisting of a shop's products after a recorded change (called after the shop's write).

    The change is already recorded when this runs, so a queue that stays unreachable (after botocore's
    retries) does not fail the request: it is logged, storefront reads keep hiding a suspended shop's
    products, and repeating the suspend or reactivate call queues the relisting again."""
    try:
        (send or _sqs_send)({"shop_id": shop_id, "listing_version": listing_version})
    except Exception:
        logger.exception("relisting not queued", extra={"shop_id": shop_id, "version": listing_version})
        return False
    return True


def handle_messages(
    bodies: Sequence[str], budget_seconds: float = DEFAULT_BUDGET_SECONDS, workers: int = WORKERS
) -> list[RelistRun]:
    """The relist worker Lambda's handler (batch size 1)."""
    runs = []
    for body in bodies:
        message = json.loads(body)
        runs.append(relist_shop(str(message["shop_id"]), budget_seconds=budget_seconds, workers=workers))
    return runs


def relist_shop(
    shop_id: str,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    workers: int = WORKERS,
    send: Sender | None = None,
) -> RelistRun:
    """Brings every product of the shop to the shop's current listing version, `workers` at a time."""
    try:
        shop = ShopItem.get(*ShopItem.key_for(shop_id), consistent_read=True)
    except ShopItem.DoesNotExist:
        return RelistRun(shop_id, 0, 0, 0, 0, True)
    target = int(shop.listing_version)
    deadline = time.monotonic() + budget_seconds
    outcomes: Counter[str] = Counter()
    lagging: list[ProductItem] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for summary in ProductItem.gsi1.query(f"SHOP#{shop_id}#PRODUCTS"):
            # The index copy may lag; a product it shows as done is done (versions only grow).
            if not isinstance(summary, ProductItem) or int(summary.shop_listing_version) >= target:
                outcomes["skipped"] += 1
                continue
            lagging.append(summary)
            if len(lagging) < workers:
                continue
            if outcomes["rewritten"] + outcomes["failed"] and time.monotonic() > deadline:
                # At least one batch a run (progress); the rest in a new run, queued before we return.
                request_relisting(shop_id, target, send)
                run = RelistRun(
                    shop_id, target, outcomes["rewritten"], outcomes["skipped"], outcomes["failed"], False
                )
                logger.info("relisting continues in a new run", extra=run.__dict__)
                return run
            outcomes.update(pool.map(lambda p: _relist_product(p, shop, target), lagging))
            lagging = []
        outcomes.update(pool.map(lambda p: _relist_product(p, shop, target), lagging))
    run = RelistRun(shop_id, target, outcomes["rewritten"], outcomes["skipped"], outcomes["failed"], True)
    logger.info("relisting done", extra=run.__dict__)
    if run.failed:
        raise RelistingIncomplete(f"{run.failed} products of {shop_id} were not relisted")
    return run


def _relist_product(summary: ProductItem, shop: ShopItem, target: int) -> str:
    terms, name = shop_terms_of(shop), shop.profile.name
    product: ProductItem | None = summary
    variants: list[VariantItem] | None = None
    for attempt in range(_ATTEMPTS):
        if attempt or product is None or product.shop_name != name:
            # The whole partition: a rename changes the words, which include the variants' options. A
            # status change keeps them, so the index copy serves as the first try (a stale copy fails the
            # version condition and lands here).
            items = list(MallItem.query(f"PRODUCT#{summary.product_id}", consistent_read=True))
            product = next((i for i in items if isinstance(i, ProductItem)), None)
            variants = [i for i in items if isinstance(i, VariantItem)]
        if product is None or int(product.shop_listing_version) >= target:
            return "skipped"
        before = entry_keys_of(product)
        product.shop_name = name
        product.shop_terms = terms
        product.shop_active = shop.active
        product.shop_listing_version = target
        if variants is not None:
            product.words = product_words(product, variants)
        apply_listing(product, shop.active)
        try:
            with transaction() as tx:
                tx.save(product)  # conditional on the product's version: a concurrent write wins
                stage_listing(tx, product, before)
            return "rewritten"
        except TransactWriteError as exc:
            if not _lost_a_race(exc):
                logger.exception("product not relisted", extra={"product_id": summary.product_id})
                return "failed"
    logger.warning("product kept changing while relisting", extra={"product_id": summary.product_id})
    return "failed"


def _lost_a_race(error: TransactWriteError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons)


@cache
def _sqs() -> tuple[Any, str]:
    """One client and the queue's URL per container, made on first use (botocore only)."""
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    client = botocore.session.get_session().create_client("sqs", region_name=settings().region, config=config)
    url = client.get_queue_url(QueueName=queue_name())["QueueUrl"]
    return client, str(url)


def _sqs_send(message: dict[str, Any]) -> None:
    client, url = _sqs()
    client.send_message(QueueUrl=url, MessageBody=json.dumps(message, sort_keys=True))
