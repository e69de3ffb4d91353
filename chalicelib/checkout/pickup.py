"""Pickup slots as a cart sees them, from the shop terms copied onto product items (shop_terms_of).

Pure apart from the clock: everything here works on the terms dict and booked counts the caller read, so
the cart view and checkout add no reads for slots. Tests pin the time by patching this module's ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import now
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.shop import slots
from chalicelib.shop.bookings import SlotHold
from chalicelib.shop.slots import Slot, SlotPolicy

HORIZON_DAYS = 14
SLOT_REQUIRED = "pickup_slot_required"
SLOT_UNAVAILABLE = "pickup_slot_unavailable"


def policy_of(terms: Mapping[str, Any]) -> SlotPolicy | None:
    """The shop's slot policy, or None when it offers "ready within N hours" (or has no slot terms yet:
    products listed before slots existed carry no such keys until the shop is relisted)."""
    config = terms.get("pickup_slots")
    if not config or "opening_hours" not in terms:
        return None
    return SlotPolicy(
        length_minutes=int(config["length_minutes"]),
        capacity=int(config["capacity"]),
        preparation_minutes=int(config.get("preparation_minutes", 0)),
    )


def offered(terms: Mapping[str, Any], booked: Mapping[str, int], moment: datetime) -> list[Slot]:
    """The slots with room left at ``moment``; [] for a shop without slots."""
    policy = policy_of(terms)
    if policy is None:
        return []
    return slots.pickup_slots(
        terms["opening_hours"],
        terms.get("closed_dates", []),
        terms["timezone"],
        moment,
        policy,
        booked,
        horizon_days=HORIZON_DAYS,
    )


def window(
    timezone: str, moment: datetime, day: date | None, first: date | None, last: date | None
) -> tuple[datetime, datetime]:
    """The instants [start, end) of the local days a client asked slots for: one `day`, or `first` to
    `last` (each defaulting to today and 14 days on), never more than HORIZON_DAYS days; nothing asked,
    the whole horizon from `moment`."""
    if day is not None and (first is not None or last is not None):
        raise InvalidInput([FieldProblem("date", "send either date or from/to")])
    if day is None and first is None and last is None:
        return moment, moment + timedelta(days=HORIZON_DAYS)
    zone = ZoneInfo(timezone)
    first = day or first or moment.astimezone(zone).date()
    last = day or last or first + timedelta(days=HORIZON_DAYS - 1)
    if last < first:
        raise InvalidInput([FieldProblem("to", "must not be before from")])
    if (last - first).days >= HORIZON_DAYS:
        raise InvalidInput([FieldProblem("to", f"at most {HORIZON_DAYS} days from 'from'")])
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start, end


def ready_by(terms: Mapping[str, Any], moment: datetime) -> datetime | None:
    """When an order placed now at a shop without slots is ready; None if unknown within the horizon."""
    if "opening_hours" not in terms:
        return None
    return slots.ready_by(
        terms["opening_hours"],
        terms.get("closed_dates", []),
        terms["timezone"],
        moment,
        int(terms["ready_within_hours"]),
        horizon_days=HORIZON_DAYS,
    )


def chosen(choice: Mapping[str, Any] | None, terms: Mapping[str, Any]) -> Slot | None:
    """The chosen slot if it can still be honoured now, judged without bookings (capacity is enforced by
    the checkout transaction's condition, so this costs no read)."""
    key = (choice or {}).get("slot_start")
    if not key or policy_of(terms) is None:
        return None
    return slots.find_slot(offered(terms, {}, now()), key)


def problem(choice: Mapping[str, Any] | None, terms: Mapping[str, Any]) -> str | None:
    """What stops pickup at this shop as chosen: no slot chosen, or one that is past or no longer offered."""
    if policy_of(terms) is None:
        return None
    if not (choice or {}).get("slot_start"):
        return SLOT_REQUIRED
    return None if chosen(choice, terms) else SLOT_UNAVAILABLE


def hold_for(shop_id: str, slot: Slot, terms: Mapping[str, Any]) -> SlotHold:
    policy = policy_of(terms)
    assert policy is not None  # only called for a chosen slot, which needs a policy
    return SlotHold(shop_id=shop_id, slot_start=slot.key, capacity=policy.capacity)
