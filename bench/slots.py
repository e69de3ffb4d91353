"""`python -m bench.slots`: how long listing a shop's pickup slots takes (pure computation, no I/O).

A shop open 08:00-20:00 every day in Brussels, 15-minute slots, a 14-day horizon across a DST change:
672 slots. Best of N runs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from time import perf_counter

from chalicelib.shop.hours import DAYS
from chalicelib.shop.slots import SlotPolicy, pickup_slots


def bench_slots(repeat: int = 20) -> float:
    hours = {day: [("08:00", "20:00")] for day in DAYS}
    policy = SlotPolicy(length_minutes=15, capacity=5, preparation_minutes=60)
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    booked = {"2026-03-21T09:00:00Z": 2}
    best = math.inf
    for _ in range(repeat):
        started = perf_counter()
        pickup_slots(hours, [], "Europe/Brussels", now, policy, booked)
        best = min(best, perf_counter() - started)
    return best


if __name__ == "__main__":
    print(f"pickup slots, 14 days of 15-minute slots 08:00-20:00 (672 slots): {bench_slots() * 1000:.1f} ms")
