"""The daily payout sweep: finds the shops due by key (the sharded due index, never a Scan) and fans out
one message per shop to the payout queue (infra/mall-stack.yaml), whose worker Lambda pays them with
bounded concurrency, so a mall of 100,000 shops settles in one night within Stripe's write rate.

The sweep only reads and sends: running it twice, or a message delivered twice, is harmless (the worker's
claim is conditional; a shop already paid has nothing left to claim).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.core.config import settings
from chalicelib.core.log import logger
from chalicelib.payout.accounts import mall_today
from chalicelib.payout.models import DUE_PARTITION, DUE_SHARDS, PayoutAccountItem
from chalicelib.payout.schemas import SweepResult

Message = dict[str, str]
# Sends a batch of at most 10 messages (SQS's SendMessageBatch limit).
Sender = Callable[[Sequence[Message]], None]
_BATCH = 10


def due_shops(moment: datetime | None = None) -> Iterator[tuple[str, str]]:
    """(shop id, due date) of every shop due on the mall's date of ``moment`` or before (a missed day is
    caught up), shard by shard, page by page."""
    today = mall_today(moment).isoformat()
    for shard in range(DUE_SHARDS):
        for account in PayoutAccountItem.gsi3.query(
            DUE_PARTITION.format(shard=shard), PayoutAccountItem.gsi3sk < f"{today}#~"
        ):
            if isinstance(account, PayoutAccountItem) and account.next_payout_on:
                yield account.shop_id, account.next_payout_on


def sweep(moment: datetime | None = None, send: Sender | None = None) -> SweepResult:
    send = send or sqs_sender()
    batch: list[Message] = []
    shops = messages = 0
    for shop_id, due_on in due_shops(moment):
        shops += 1
        batch.append({"shop_id": shop_id, "due_on": due_on})
        if len(batch) == _BATCH:
            send(batch)
            messages += len(batch)
            batch = []
    if batch:
        send(batch)
        messages += len(batch)
    logger.info("payout sweep", extra={"shops_due": shops})
    return SweepResult(shops, messages)


@cache
def _sqs() -> tuple[Any, str]:
    """One client and the queue's URL per container, made on first use (botocore only)."""
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    client = botocore.session.get_session().create_client("sqs", region_name=settings().region, config=config)
    url = client.get_queue_url(QueueName=settings().payout_queue_name)["QueueUrl"]
    return client, str(url)


def sqs_sender() -> Sender:
    def send(batch: Sequence[Message]) -> None:
        client, url = _sqs()
        entries = [{"Id": str(i), "MessageBody": json.dumps(m, sort_keys=True)} for i, m in enumerate(batch)]
        for _ in range(3):
            failed = client.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
            if not failed:
                return
            ids = {f["Id"] for f in failed}
            entries = [e for e in entries if e["Id"] in ids]
        raise RuntimeError(f"{len(entries)} payout messages not accepted by SQS")

    return send


def handle_messages(bodies: Sequence[str]) -> list[tuple[str, str]]:
    """The payout worker Lambda's handler (batch size 1): pays each shop named. A provider failure with an
    unknown outcome raises, so SQS delivers the message again after its visibility timeout."""
    from chalicelib.payout.worker import process_shop

    results = []
    for body in bodies:
        message = json.loads(body)
        run = process_shop(str(message["shop_id"]), "schedule")
        results.append((run.shop_id, run.outcome))
        logger.info(
            "payout run", extra={"shop_id": run.shop_id, "outcome": run.outcome, "payouts": len(run.payouts)}
        )
    return results
