"""chalicelib.checkout.pickup: slots and problems from the shop terms a product carries, including terms
written before slots existed (no hours in them), which must fall back to "ready within hours"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.checkout import pickup

NOW = datetime(2026, 3, 27, 12, tzinfo=UTC)  # Friday 13:00 in Ghent
HOURS = {"sat": [["10:00", "11:00"]]}


def terms(**overrides: Any) -> dict[str, Any]:
    return {
        "timezone": "Europe/Brussels",
        "pickup": True,
        "ready_within_hours": 2,
        "pickup_slots": {"length_minutes": 30, "capacity": 3, "preparation_minutes": 0},
        "opening_hours": HOURS,
        "closed_dates": [],
        **overrides,
    }


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickup, "now", lambda: NOW)


def test_terms_from_before_slots_mean_ready_within_hours() -> None:
    legacy = {"timezone": "Europe/Brussels", "pickup": True, "ready_within_hours": 2}
    assert pickup.policy_of(legacy) is None
    assert pickup.offered(legacy, {}, NOW) == []
    assert pickup.ready_by(legacy, NOW) is None
    assert pickup.problem({"method": "pickup", "slot_start": "2026-03-28T09:00:00Z"}, legacy) is None


def test_problems_name_a_missing_or_stale_slot() -> None:
    assert pickup.problem(None, terms()) == pickup.SLOT_REQUIRED
    assert pickup.problem({"method": "pickup", "slot_start": None}, terms()) == pickup.SLOT_REQUIRED
    assert pickup.problem({"method": "pickup", "slot_start": "2026-03-28T09:00:00Z"}, terms()) is None
    # Closed that day since the slot was chosen:
    closed = terms(closed_dates=["2026-03-28"])
    assert pickup.problem({"method": "pickup", "slot_start": "2026-03-28T09:00:00Z"}, closed) == (
        pickup.SLOT_UNAVAILABLE
    )
    assert pickup.problem(None, terms(pickup_slots=None)) is None


def test_bookings_lower_remaining_and_a_full_slot_is_not_offered() -> None:
    offered = pickup.offered(terms(), {"2026-03-28T09:00:00Z": 3, "2026-03-28T09:30:00Z": 1}, NOW)
    assert [(s.key, s.remaining) for s in offered[:2]] == [
        ("2026-03-28T09:30:00Z", 2),
        ("2026-04-04T08:00:00Z", 3),
    ]
    hold = pickup.hold_for("shop_1", offered[0], terms())
    assert (hold.shop_id, hold.slot_start, hold.capacity) == ("shop_1", "2026-03-28T09:30:00Z", 3)
