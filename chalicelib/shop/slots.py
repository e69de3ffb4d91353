"""Pickup slots a shop can honour, and "ready within N opening hours" promises for shops without slots.

Both build on the opening-hours model of :mod:`chalicelib.shop.hours` (weekly local wall-clock intervals,
closed dates in the local calendar, an IANA zone) and are pure: no I/O, no clock reads (``now`` is passed).

Slots
-----
Each opening interval is cut into consecutive windows of ``length_minutes`` on the local wall clock,
starting at the interval's opening time; a remainder shorter than a slot is dropped, so a slot never
crosses a closing time, a lunch break or midnight. Each moment the shop's clock shows a window's start
begins a slot, which lasts until the clock leaves the window or turns back. On ordinary days that is one
slot of exactly ``length_minutes``. Around DST changes (Brussels times; New York's work alike):

* Spring forward (2026-03-29, 02:00 -> 03:00): a window whose start does not exist (02:00, 02:30) is
  skipped, even if its end exists. A window that starts before the gap and ends inside or after it keeps
  its slot, shorter in real time by the part of the gap it covers (01:30-02:30 lasts 30 minutes, ending
  when the clock jumps to 03:00).
* Fall back (2026-10-25, 03:00 -> 02:00): the repeated hour yields a slot for each occurrence of a window
  start inside it, so 02:00-02:30 and 02:00-03:00 are each offered twice, full length. A slot never spans
  the moment the clock turns back: 02:30-03:30 is offered once for 30 minutes (until 03:00 summer time)
  and again for 60 minutes from 02:30 winter time. A window starting before the repeated hour gets its
  first pass only (01:30-02:30: 60 minutes, summer time); the second pass through 02:00-02:30 is in no
  slot, so a shop open through the night offers a little less than its hours on that night.

So a slot lasts exactly ``length_minutes`` of real time when the UTC offset is the same at its start and
end, and never longer; wall-clock length equals real length outside DST changes. Slots never overlap, and
every instant of a slot is open per :func:`chalicelib.shop.hours.is_open`.

Slots are offered from ``now + preparation_minutes`` (inclusive) to ``now + horizon_days`` (exclusive,
real 24-hour days), judged by their start. Bookings are keyed by :func:`slot_key`, the start in UTC, which
stays unique even when a wall-clock time occurs twice.

Like :mod:`chalicelib.shop.hours`, this assumes at most one UTC-offset change per local day, true of every
zone today.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# Private helpers shared on purpose: slots must agree with is_open/next_opening to the microsecond, so
# they use the same parsing, validation and DST resolution instead of a second copy.
from chalicelib.shop.hours import (
    DAYS,
    OpeningHours,
    _closed_set,
    _instants_of_wall_time,
    _require_aware,
    _schedule,
    _transition_during,
    _zone,
    next_opening,
)

MIN_LENGTH_MINUTES: Final = 15
MAX_LENGTH_MINUTES: Final = 240
MIN_CAPACITY: Final = 1
MAX_CAPACITY: Final = 100
MAX_PREPARATION_MINUTES: Final = 7 * 24 * 60
# A request parameter may reach here; a year bounds the work one call can cause.
MAX_HORIZON_DAYS: Final = 366

_KEY_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def _require_int(name: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass, and True would otherwise pass as a capacity of 1.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


@dataclass(frozen=True)
class SlotPolicy:
    """How a shop cuts its opening hours into pickup slots. Raises ValueError when out of range."""

    length_minutes: int
    capacity: int  # units a slot can hold; what a unit is (an order, a bag) is the caller's choice
    preparation_minutes: int = 0  # earliest slot start is now + this

    def __post_init__(self) -> None:
        _require_int("length_minutes", self.length_minutes, MIN_LENGTH_MINUTES, MAX_LENGTH_MINUTES)
        _require_int("capacity", self.capacity, MIN_CAPACITY, MAX_CAPACITY)
        _require_int("preparation_minutes", self.preparation_minutes, 0, MAX_PREPARATION_MINUTES)


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC; start + length_minutes except on DST days (module docstring)
    remaining: int  # capacity minus what is booked; always > 0 in pickup_slots' answer

    @property
    def key(self) -> str:
        return slot_key(self.start)


def slot_key(start: datetime) -> str:
    """The booking key of a slot starting at the aware instant ``start``: "YYYY-MM-DDTHH:MM:SSZ" in UTC.

    Raises ValueError for a naive datetime or one with microseconds, which no slot start has and which
    the format would silently drop.
    """
    _require_aware(start)
    if start.microsecond:
        raise ValueError("slot starts are whole seconds")
    return start.astimezone(UTC).strftime(_KEY_FORMAT)


def find_slot(slots: Iterable[Slot], start_iso: str) -> Slot | None:
    """The slot whose :func:`slot_key` is exactly ``start_iso``, or None.

    Exact string match on purpose: the client echoes the key it was given, and the same string is the key
    of the booking counter, so accepting other spellings of the instant would split one slot's counter.
    """
    return next((slot for slot in slots if slot_key(slot.start) == start_iso), None)


# A stretch of real time [begin, end) in which the shop's clock runs at one UTC offset. Instants inside
# this module are naive UTC: attaching tzinfo to every intermediate value doubled the cost of a listing.
_Piece = tuple[datetime, datetime, timedelta]


def _pieces(day: date, zone: ZoneInfo) -> list[_Piece]:
    """The real time during which the local calendar shows ``day``, split at its UTC-offset change.

    From the first instant the clock shows ``day`` to the first it shows the next day, so consecutive
    days' pieces abut. Within a piece the wall clock is ``instant + offset``, so windows map to instants
    by arithmetic instead of a zone lookup per slot. (A clock turned back across midnight from after
    00:00 would replay part of ``day`` outside its pieces; no zone does that.)
    """
    begin = _instants_of_wall_time(day, 0, zone)[0]
    end = _instants_of_wall_time(day + timedelta(days=1), 0, zone)[0]
    transition = _transition_during(day, zone)
    if transition is None:
        return [(_naive(begin), _naive(end), _offset(begin, zone))]
    return [
        (_naive(begin), _naive(transition), _offset(begin, zone)),
        (_naive(transition), _naive(end), _offset(transition, zone)),
    ]


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    if offset is None:  # never for a ZoneInfo; narrows the type without an assert
        raise ValueError(f"no UTC offset in {zone.key} at {instant.isoformat()}")
    return offset


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _segments(
    midnight: datetime, pieces: list[_Piece], first_minute: int, last_minute: int
) -> list[tuple[datetime, datetime, timedelta, bool]]:
    """Per piece, the real time [begin, end) in which the clock of ``midnight``'s day shows a time in
    [first_minute, last_minute), with the piece's offset and whether it begins with the clock showing
    first_minute. At most one segment per piece, in time order.
    """
    window_start = midnight + timedelta(minutes=first_minute)
    window_end = midnight + timedelta(minutes=last_minute)
    segments: list[tuple[datetime, datetime, timedelta, bool]] = []
    for begin, end, offset in pieces:
        at_start = window_start - offset
        low = max(begin, at_start)
        high = min(end, window_end - offset)
        if low < high:
            segments.append((low, high, offset, low == at_start))
    return segments


def _window_slots(
    midnight: datetime, pieces: list[_Piece], first_minute: int, last_minute: int
) -> list[tuple[datetime, datetime]]:
    """The slots of one wall-clock window: one per moment the clock shows its start, each lasting until
    the clock leaves the window or turns back (the rule in the module docstring)."""
    slots: list[tuple[datetime, datetime]] = []
    previous_offset: timedelta | None = None
    for low, high, offset, begins_at_start in _segments(midnight, pieces, first_minute, last_minute):
        if slots and slots[-1][1] == low and previous_offset is not None and offset > previous_offset:
            # Sprung forward within the window: the clock ran on, the slot just lost the gap.
            slots[-1] = (slots[-1][0], high)
        elif begins_at_start:
            slots.append((low, high))
        previous_offset = offset
    return slots


def _booked_counts(booked: Mapping[str, int]) -> Mapping[str, int]:
    for key, count in booked.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"booked[{key!r}] must be a non-negative integer, got {count!r}")
    return booked


def _local_date(naive_utc: datetime, zone: ZoneInfo) -> date:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone).date()


def _check_horizon(horizon_days: int) -> None:
    _require_int("horizon_days", horizon_days, 0, MAX_HORIZON_DAYS)


def pickup_slots(
    hours: OpeningHours,
    closed_dates: Iterable[str],
    tz_name: str,
    now: datetime,
    policy: SlotPolicy,
    booked: Mapping[str, int],
    horizon_days: int = 14,
) -> list[Slot]:
    """The slots with capacity left, sorted by start: those starting in [now + preparation, now +
    horizon_days), with ``remaining = capacity - booked.get(slot_key(start), 0)`` > 0.

    ``booked`` may hold keys of other or past slots (ignored). Raises ValueError for a naive ``now``, an
    unknown zone, invalid hours or closed dates, a horizon outside 0..366, or a negative or non-integer
    booked count (convert DynamoDB Decimals first). See the module docstring for DST days.
    """
    _require_aware(now)
    _check_horizon(horizon_days)
    zone = _zone(tz_name)
    schedule = _schedule(hours)
    closed = _closed_set(closed_dates)
    counts = _booked_counts(booked)
    now_utc = _naive(now)
    earliest = now_utc + timedelta(minutes=policy.preparation_minutes)
    limit = now_utc + timedelta(days=horizon_days)
    length = policy.length_minutes
    slots: list[Slot] = []
    if earliest >= limit:
        return slots
    # Earlier days need no look: a day's pieces end where the next day's begin (see _pieces).
    day = _local_date(earliest, zone)
    last_day = _local_date(limit, zone)
    while day <= last_day:
        intervals = schedule.get(DAYS[day.weekday()])
        if intervals and day.isoformat() not in closed:
            pieces = _pieces(day, zone)
            midnight = datetime.combine(day, time())
            for opens, closes in intervals:
                for first_minute in range(opens, closes - length + 1, length):
                    for start, end in _window_slots(midnight, pieces, first_minute, first_minute + length):
                        if not earliest <= start < limit:
                            continue
                        remaining = policy.capacity - counts.get(start.strftime(_KEY_FORMAT), 0)
                        if remaining > 0:
                            slots.append(Slot(start.replace(tzinfo=UTC), end.replace(tzinfo=UTC), remaining))
        day += timedelta(days=1)
    # Fall-back days interleave the two passes of different windows, so day-and-window order is not enough.
    slots.sort(key=lambda slot: slot.start)
    return slots


def ready_by(
    hours: OpeningHours,
    closed_dates: Iterable[str],
    tz_name: str,
    now: datetime,
    ready_within_hours: float,
    horizon_days: int = 14,
) -> datetime | None:
    """When an order placed at ``now`` is ready at a shop promising "ready within N hours of opening time":
    the aware-UTC instant by which the shop has been open ``ready_within_hours`` hours of real time,
    counted from ``now`` if open, else from its next opening.

    Open time is real elapsed time: a spring-forward gap inside opening hours does not count, a repeated
    fall-back hour counts twice. The answer may be a closing instant (open 09:00-10:00, one hour from 09:00
    is ready at 10:00). With 0 hours it is :func:`chalicelib.shop.hours.next_opening`.

    None when the shop does not open within ``horizon_days`` of ``now``, or is open less than the promised
    hours in the ``horizon_days`` after that opening. ValueError as for :func:`pickup_slots`, and for hours
    that are negative, not finite, or more than a horizon holds.
    """
    _check_horizon(horizon_days)
    if (
        not isinstance(ready_within_hours, (int, float))
        or isinstance(ready_within_hours, bool)
        or not math.isfinite(ready_within_hours)
        or not 0 <= ready_within_hours <= 24 * horizon_days
    ):
        raise ValueError(
            f"ready_within_hours must be a number from 0 to {24 * horizon_days}, got {ready_within_hours!r}"
        )
    first = next_opening(hours, closed_dates, tz_name, now, horizon_days=horizon_days)
    if first is None:
        return None
    needed = timedelta(hours=ready_within_hours)
    if not needed:
        return first
    zone = _zone(tz_name)
    schedule = _schedule(hours)
    closed = _closed_set(closed_dates)
    counted_from = _naive(first)
    limit = counted_from + timedelta(days=horizon_days)
    day = _local_date(counted_from, zone)
    last_day = _local_date(limit, zone)
    while day <= last_day:
        intervals = schedule.get(DAYS[day.weekday()])
        if intervals and day.isoformat() not in closed:
            pieces = _pieces(day, zone)
            midnight = datetime.combine(day, time())
            # Sorted: on a fall-back day one interval's second pass can come after the next interval.
            runs = sorted(
                (begin, end)
                for opens, closes in intervals
                for begin, end, _offset, _begins_at_start in _segments(midnight, pieces, opens, closes)
            )
            for begin, end in runs:
                if end <= counted_from:
                    continue
                counted_from = max(begin, counted_from)
                if needed <= end - counted_from:
                    ready = counted_from + needed
                    return ready.replace(tzinfo=UTC) if ready <= limit else None
                needed -= end - counted_from
                counted_from = end
        day += timedelta(days=1)
    return None
