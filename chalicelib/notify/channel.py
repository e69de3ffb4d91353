"""Where the relay publishes order events for the operator: an EventBridge bus per stage (defined in
infra/mall-stack.yaml), or, locally and in tests, a structured log line (EVENT_CHANNEL=log)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from chalicelib.core.config import settings
from chalicelib.core.log import logger

SOURCE = "digital-mall.orders"
# PutEvents takes at most 10 entries per call.
_BATCH = 10
# (event id, envelope) -> the ids that were published.
Publisher = Callable[[Sequence[tuple[str, dict[str, Any]]]], set[str]]


def channel_name() -> str:
    """EVENT_CHANNEL wins; otherwise stages without AWS (local, test) log and the others use EventBridge."""
    configured = os.environ.get("EVENT_CHANNEL")
    if configured:
        return configured
    return "log" if settings().stage in ("local", "test") else "eventbridge"


def bus_name() -> str:
    return os.environ.get("EVENT_BUS_NAME") or f"digital-mall-{settings().stage}"


def default_publisher() -> Publisher:
    name = channel_name()
    if name == "log":
        return publish_to_log
    if name == "eventbridge":
        return publish_to_eventbridge
    raise ValueError(f"EVENT_CHANNEL={name!r}: expected 'eventbridge' or 'log'")


def publish_to_log(events: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
    for _, envelope in events:
        logger.info("order event", extra={"order_event": envelope})
    return {event_id for event_id, _ in events}


@cache
def _events_client() -> Any:
    """One client per container, created on first use (botocore only: no boto3 in the API's imports)."""
    import botocore.session
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return botocore.session.get_session().create_client(
        "events", region_name=settings().region, config=config
    )


def publish_to_eventbridge(events: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
    """Returns the ids EventBridge accepted; a rejected entry stays in the outbox for the next run."""
    published: set[str] = set()
    for start in range(0, len(events), _BATCH):
        batch = events[start : start + _BATCH]
        try:
            result = _call_put_events(batch)
        except Exception:
            # What was accepted so far leaves the outbox; the rest waits for the next run.
            logger.exception("PutEvents failed", extra={"event_ids": [eid for eid, _ in batch]})
            break
        # Entries come back in request order; a failed one has an ErrorCode instead of an EventId.
        for (event_id, _), entry in zip(batch, result.get("Entries", []), strict=False):
            if entry.get("EventId") and not entry.get("ErrorCode"):
                published.add(event_id)
            else:
                logger.warning(
                    "event not accepted by EventBridge",
                    extra={"event_id": event_id, "error": entry.get("ErrorCode")},
                )
    return published


def _call_put_events(batch: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return dict(
        _events_client().put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": envelope["type"],
                    "Detail": json.dumps(envelope, separators=(",", ":")),
                    "EventBusName": bus_name(),
                    "Time": envelope["created_at"],
                }
                for _, envelope in batch
            ]
        )
    )
