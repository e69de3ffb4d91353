"""The Stripe events each endpoint must be subscribed to: one list in code, handled by the dispatch and
shown to the operator by the README (a pending refund settles on charge.refunded / refund.updated, a
dispute on charge.dispute.*: an endpoint missing one would leave money unsettled in production)."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.api.payments import CONNECT_EVENTS, PLATFORM_EVENTS
from chalicelib.order.payment_events import PAYMENT_EVENTS, REFUND_EVENTS
from chalicelib.payout.connect_events import CONNECT_EVENTS as HANDLED_CONNECT_EVENTS
from chalicelib.payout.platform_events import DISPUTE_EVENTS

README = Path(__file__).resolve().parents[2] / "README.md"


def _listed(label: str) -> set[str]:
    """The events named in the README's line starting with ``label`` (backticked, dotted)."""
    line = next(line for line in README.read_text().splitlines() if line.strip().startswith(label))
    return set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", line))


def test_the_platform_endpoint_subscribes_to_every_event_the_dispatch_handles():
    assert set(PLATFORM_EVENTS) == set(PAYMENT_EVENTS) | set(REFUND_EVENTS) | set(DISPUTE_EVENTS)
    assert _listed("- Platform endpoint") == set(PLATFORM_EVENTS)


def test_the_connect_endpoint_subscribes_to_every_connect_event_handled():
    assert set(CONNECT_EVENTS) == set(HANDLED_CONNECT_EVENTS)
    assert _listed("- Connect endpoint") == set(CONNECT_EVENTS)
