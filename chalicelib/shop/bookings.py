"""Pickup slot bookings: one counter item per shop and slot, written only inside order transactions.

pk = SHOP#<shop id>, sk = SLOT#<slot key> (chalicelib/shop/slots.slot_key: the start in UTC, so keys sort by
time). ``booked`` counts the orders holding the slot. A checkout adds one under the condition that the slot
is not full, in the same transaction as the stock; releasing an unpaid order takes it back in its own
transaction. So the counter never passes the capacity, and listing a shop's free slots is ONE Query
(sk BETWEEN the first and last slot key of the horizon). Items expire (TTL) a while after their slot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from chalicelib.core.db import MallItem
from chalicelib.shop.slots import slot_key

# Housekeeping only: long after any order could still be released or disputed.
KEEP_AFTER_SLOT = timedelta(days=30)


class SlotBookingItem(MallItem, discriminator="slot_booking"):
    """pk = SHOP#<shop id>, sk = SLOT#<slot key>: how many orders hold this pickup slot."""

    shop_id = UnicodeAttribute()
    slot_start = UnicodeAttribute()
    booked = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    @staticmethod
    def key_for(shop_id: str, key: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", f"SLOT#{key}"


@dataclass(frozen=True)
class SlotHold:
    """One slot an order holds: what checkout adds and cancellation gives back."""

    shop_id: str
    slot_start: str  # the slot key
    capacity: int


def booked_counts(shop_id: str, start: datetime, end: datetime, consistent: bool = False) -> dict[str, int]:
    """Booked count per slot key for slots starting in [start, end]: one Query (all pages, normally one:
    14 days of 15-minute slots around the clock is 1,344 small items, well under 1 MB)."""
    low = SlotBookingItem.key_for(shop_id, slot_key(_whole_second(start)))[1]
    high = SlotBookingItem.key_for(shop_id, slot_key(_whole_second(end)))[1]
    counts: dict[str, int] = {}
    for item in SlotBookingItem.query(
        f"SHOP#{shop_id}", SlotBookingItem.sk.between(low, high), consistent_read=consistent
    ):
        # Never negative: a release after the item expired recreates it below zero (see stage_release).
        counts[item.slot_start] = max(0, int(item.booked))
    return counts


def booked_of(holds: Iterable[SlotHold]) -> dict[tuple[str, str], int]:
    """The current counts of the given slots (error path of a checkout: which slot was full?)."""
    keys = sorted({SlotBookingItem.key_for(h.shop_id, h.slot_start) for h in holds})
    found: dict[tuple[str, str], int] = {}
    for item in SlotBookingItem.batch_get(keys, consistent_read=True):
        found[(item.shop_id, item.slot_start)] = int(item.booked)
    return found


def stage_hold(tx: TransactWrite, hold: SlotHold) -> None:
    """Adds one booking to the transaction; cancels it when the slot already holds ``capacity`` orders."""
    item = SlotBookingItem(*SlotBookingItem.key_for(hold.shop_id, hold.slot_start))
    tx.update(
        item,
        actions=[*_identity(hold.shop_id, hold.slot_start), SlotBookingItem.booked.add(1)],
        condition=SlotBookingItem.booked.does_not_exist() | (SlotBookingItem.booked < hold.capacity),
    )


def stage_release(tx: TransactWrite, shop_id: str, key: str) -> None:
    """Gives one booking back. Unconditional on purpose: a failed condition here would block the order's
    cancellation and so its stock; the counter is right because hold and release are each transactional
    with the order's status change."""
    item = SlotBookingItem(*SlotBookingItem.key_for(shop_id, key))
    tx.update(item, actions=[*_identity(shop_id, key), SlotBookingItem.booked.add(-1)])


def _identity(shop_id: str, key: str) -> list:
    # The first hold creates the item through UpdateItem, so it must write what a save would: the kind
    # (queries of SlotBookingItem filter on it), the attributes, the TTL.
    start = datetime.strptime(key, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return [
        SlotBookingItem.kind.set(SlotBookingItem),
        SlotBookingItem.shop_id.set(shop_id),
        SlotBookingItem.slot_start.set(key),
        SlotBookingItem.expires_at.set(int((start + KEEP_AFTER_SLOT).timestamp())),
    ]


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
