"""Unit tests for chalicelib.shop.slots: pickup slots and "ready within N opening hours", across DST.

The property tests compare against a brute force that only watches the shop's wall clock minute by minute
(every DST change of these zones and years falls on a whole UTC minute), so they share no code with the
implementation's offset arithmetic. The DST rule under test, from the module docstring: each moment the
clock shows a window's start begins a slot, which lasts until the clock leaves the window or turns back.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bench.slots import bench_slots
from chalicelib.shop import hours as h
from chalicelib.shop import slots as s
from chalicelib.shop.slots import Slot, SlotPolicy

BRUSSELS = "Europe/Brussels"
NEW_YORK = "America/New_York"
EVERY_DAY_8_TO_8 = {day: [("08:00", "20:00")] for day in h.DAYS}
ALL_DAY = {day: [("00:00", "24:00")] for day in h.DAYS}
MINUTE = timedelta(minutes=1)

Hours = dict[str, list[tuple[str, str]]]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def wall(instant: datetime, zone: str) -> str:
    """The local reading of ``instant`` with its abbreviation, e.g. "2026-10-25 02:00 CET"."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def minutes_long(slot: Slot) -> int:
    return int((slot.end - slot.start) / MINUTE)


def listing(slots: list[Slot], zone: str) -> list[tuple[str, int]]:
    return [(wall(slot.start, zone)[11:], minutes_long(slot)) for slot in slots]


def policy(length: int, capacity: int = 1, preparation: int = 0) -> SlotPolicy:
    return SlotPolicy(length_minutes=length, capacity=capacity, preparation_minutes=preparation)


# --- examples --------------------------------------------------------------------------------------------

# 2026-06-06 is a Saturday; Brussels is on summer time (UTC+2).
SATURDAY = date(2026, 6, 6)
SATURDAY_WITH_LUNCH_BREAK: Hours = {"sat": [("09:00", "12:30"), ("13:30", "18:00")]}


def test_saturday_with_lunch_break() -> None:
    friday_evening = utc(2026, 6, 5, 18)
    result = s.pickup_slots(SATURDAY_WITH_LUNCH_BREAK, [], BRUSSELS, friday_evening, policy(60, 3), {}, 2)
    # 12:00-12:30 and 17:30-18:00 are remainders shorter than a slot; no slot spans the break.
    assert listing(result, BRUSSELS) == [
        ("09:00 CEST", 60),
        ("10:00 CEST", 60),
        ("11:00 CEST", 60),
        ("13:30 CEST", 60),
        ("14:30 CEST", 60),
        ("15:30 CEST", 60),
        ("16:30 CEST", 60),
    ]
    assert [slot.key for slot in result][:2] == ["2026-06-06T07:00:00Z", "2026-06-06T08:00:00Z"]
    assert all(slot.remaining == 3 for slot in result)
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in result)


def test_booked_capacity_reduces_remaining_and_a_full_slot_disappears() -> None:
    friday_evening = utc(2026, 6, 5, 18)
    booked = {"2026-06-06T07:00:00Z": 3, "2026-06-06T08:00:00Z": 1, "2026-06-06T09:00:00Z": 5}
    result = s.pickup_slots(SATURDAY_WITH_LUNCH_BREAK, [], BRUSSELS, friday_evening, policy(60, 3), booked, 2)
    by_key = {slot.key: slot.remaining for slot in result}
    assert "2026-06-06T07:00:00Z" not in by_key  # exactly full
    assert "2026-06-06T09:00:00Z" not in by_key  # overbooked (capacity lowered after bookings)
    assert by_key["2026-06-06T08:00:00Z"] == 2
    assert by_key["2026-06-06T11:30:00Z"] == 3


def test_bookings_for_unknown_or_past_slots_are_ignored() -> None:
    friday_evening = utc(2026, 6, 5, 18)
    booked = {"2020-01-01T00:00:00Z": 7, "not a key": 1}
    plain = s.pickup_slots(SATURDAY_WITH_LUNCH_BREAK, [], BRUSSELS, friday_evening, policy(60, 3), {}, 2)
    assert (
        s.pickup_slots(SATURDAY_WITH_LUNCH_BREAK, [], BRUSSELS, friday_evening, policy(60, 3), booked, 2)
        == plain
    )


def test_horizon_is_half_open_on_the_slot_start() -> None:
    now = utc(2026, 6, 1, 8)  # 10:00 in Brussels, a slot start
    result = s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, now, policy(60), {}, horizon_days=2)
    assert result[0].start == now  # preparation 0: a slot starting right now is still offered
    assert result[-1].start == now + timedelta(days=2) - timedelta(hours=1)  # starts inside, ends outside
    assert all(slot.start < now + timedelta(days=2) for slot in result)
    one_more_second = s.pickup_slots(
        EVERY_DAY_8_TO_8, [], BRUSSELS, now + timedelta(seconds=1), policy(60), {}, horizon_days=2
    )
    assert one_more_second[0].start == now + timedelta(hours=1)
    assert one_more_second[-1].start == now + timedelta(days=2)


def test_preparation_time_is_counted_from_now_in_real_time() -> None:
    now = utc(2026, 6, 1, 8)  # 10:00 local
    result = s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, now, policy(30, 1, 90), {}, 1)
    assert wall(result[0].start, BRUSSELS) == "2026-06-01 11:30 CEST"
    late = s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, now + MINUTE, policy(30, 1, 90), {}, 1)
    assert wall(late[0].start, BRUSSELS) == "2026-06-01 12:00 CEST"
    # A preparation time past closing moves to the next opening day.
    overnight = s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1, 16), policy(30, 1, 120), {}, 2)
    assert wall(overnight[0].start, BRUSSELS) == "2026-06-02 08:00 CEST"


def test_closed_dates_and_closed_days_have_no_slots() -> None:
    weekdays = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    result = s.pickup_slots(weekdays, ["2026-06-02"], BRUSSELS, utc(2026, 5, 31, 22), policy(240), {}, 7)
    assert [wall(slot.start, BRUSSELS) for slot in result] == [
        "2026-06-01 09:00 CEST",
        "2026-06-01 13:00 CEST",
        # Tuesday 2 June closed; the weekend has no hours.
        "2026-06-03 09:00 CEST",
        "2026-06-03 13:00 CEST",
        "2026-06-04 09:00 CEST",
        "2026-06-04 13:00 CEST",
        "2026-06-05 09:00 CEST",
        "2026-06-05 13:00 CEST",
    ]


def test_closed_dates_are_local_calendar_dates() -> None:
    # 23:30 UTC on 24 December is already Christmas in Brussels.
    late = {day: [("00:00", "01:00")] for day in h.DAYS}
    result = s.pickup_slots(late, ["2026-12-25"], BRUSSELS, utc(2026, 12, 24, 12), policy(30), {}, 2)
    assert [wall(slot.start, BRUSSELS) for slot in result] == ["2026-12-26 00:00 CET", "2026-12-26 00:30 CET"]


def test_all_day_opening_and_24_00() -> None:
    result = s.pickup_slots(ALL_DAY, [], "UTC", utc(2026, 6, 1), policy(15), {}, 1)
    assert len(result) == 96
    assert result[-1].end == utc(2026, 6, 2)
    evening = {"mon": [("22:00", "24:00")], "tue": [("00:00", "01:00")]}
    result = s.pickup_slots(evening, [], "UTC", utc(2026, 6, 1), policy(90), {}, 2)
    # Slots never span midnight, even where the hours continue: 22:00-23:30, then Tuesday 00:00 has only
    # 60 minutes, shorter than a slot.
    assert [(slot.start, slot.end) for slot in result] == [(utc(2026, 6, 1, 22), utc(2026, 6, 1, 23, 30))]


def test_slots_are_aligned_to_each_intervals_opening() -> None:
    odd = {"mon": [("09:10", "10:20"), ("10:20", "11:00")]}
    result = s.pickup_slots(odd, [], "UTC", utc(2026, 6, 1), policy(20), {}, 1)
    assert [slot.start.strftime("%H:%M") for slot in result] == ["09:10", "09:30", "09:50", "10:20", "10:40"]


def test_empty_answers() -> None:
    now = utc(2026, 6, 1, 8)
    assert s.pickup_slots({}, [], BRUSSELS, now, policy(30), {}) == []
    assert s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, now, policy(30), {}, horizon_days=0) == []
    # Preparation beyond the horizon.
    assert s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, now, policy(30, 1, 3 * 24 * 60), {}, 3) == []


def test_now_in_another_zone_is_the_same_instant() -> None:
    now = utc(2026, 6, 1, 8)
    in_tokyo = now.astimezone(ZoneInfo("Asia/Tokyo"))
    assert s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, in_tokyo, policy(30), {}, 2) == s.pickup_slots(
        EVERY_DAY_8_TO_8, [], BRUSSELS, now, policy(30), {}, 2
    )


# --- DST examples (the rule of the module docstring, case by case) -----------------------------------------

BRUSSELS_SPRING_EVE = utc(2026, 3, 28, 23)  # 00:00 CET on Sunday 29 March; clocks go 02:00 -> 03:00
BRUSSELS_FALL_EVE = utc(2026, 10, 24, 22)  # 00:00 CEST on Sunday 25 October; clocks go 03:00 -> 02:00


def night(zone: str, eve: datetime, length: int, hours: Hours = ALL_DAY) -> list[tuple[str, int]]:
    """Slots starting before 05:00 (local) on the day that begins at ``eve``."""
    day = wall(eve, zone)[:10]
    result = s.pickup_slots(hours, [], zone, eve, policy(length), {}, 1)
    return [
        (wall(slot.start, zone)[11:], minutes_long(slot))
        for slot in result
        if wall(slot.start, zone)[:10] == day and wall(slot.start, zone)[11:13] < "05"
    ]


def test_spring_forward_skips_windows_starting_in_the_gap() -> None:
    assert night(BRUSSELS, BRUSSELS_SPRING_EVE, 30) == [
        ("00:00 CET", 30),
        ("00:30 CET", 30),
        ("01:00 CET", 30),
        ("01:30 CET", 30),  # ends at 03:00 CEST: the clock jumped at what would have been 02:00
        ("03:00 CEST", 30),
        ("03:30 CEST", 30),
        ("04:00 CEST", 30),
        ("04:30 CEST", 30),
    ]


def test_spring_forward_shortens_a_window_partly_in_the_gap() -> None:
    assert night(BRUSSELS, BRUSSELS_SPRING_EVE, 45) == [
        ("00:00 CET", 45),
        ("00:45 CET", 45),
        ("01:30 CET", 30),  # 01:30-02:15: 02:00-02:15 never happens
        # 02:15 does not exist: skipped, although its end (03:00) does.
        ("03:00 CEST", 45),
        ("03:45 CEST", 45),
        ("04:30 CEST", 45),
    ]
    # 02:00-04:00 starts in the gap.
    assert night(BRUSSELS, BRUSSELS_SPRING_EVE, 120) == [("00:00 CET", 120), ("04:00 CEST", 120)]


def test_spring_forward_window_across_the_whole_gap_keeps_its_slot() -> None:
    result = s.pickup_slots(
        {"sun": [("01:30", "03:30")]}, [], BRUSSELS, BRUSSELS_SPRING_EVE, policy(120), {}, 1
    )
    assert listing(result, BRUSSELS) == [("01:30 CET", 60)]
    assert wall(result[0].end, BRUSSELS) == "2026-03-29 03:30 CEST"


def test_fall_back_offers_windows_of_the_repeated_hour_twice() -> None:
    assert night(BRUSSELS, BRUSSELS_FALL_EVE, 30) == [
        ("00:00 CEST", 30),
        ("00:30 CEST", 30),
        ("01:00 CEST", 30),
        ("01:30 CEST", 30),
        ("02:00 CEST", 30),
        ("02:30 CEST", 30),
        ("02:00 CET", 30),
        ("02:30 CET", 30),
        ("03:00 CET", 30),
        ("03:30 CET", 30),
        ("04:00 CET", 30),
        ("04:30 CET", 30),
    ]
    hourly = night(BRUSSELS, BRUSSELS_FALL_EVE, 60)
    assert hourly[2:5] == [("02:00 CEST", 60), ("02:00 CET", 60), ("03:00 CET", 60)]


def test_fall_back_cuts_a_slot_where_the_clock_turns_back() -> None:
    half_past = {"sun": [("00:30", "05:30")]}
    assert night(BRUSSELS, BRUSSELS_FALL_EVE, 60, half_past) == [
        ("00:30 CEST", 60),
        ("01:30 CEST", 60),  # 01:30-02:30: first pass only; the second pass of 02:00-02:30 is in no slot
        ("02:30 CEST", 30),  # cut at 03:00 CEST, when the clock turns back to 02:00
        ("02:30 CET", 60),  # the same window's second pass, full length
        ("03:30 CET", 60),
        ("04:30 CET", 60),
    ]
    assert night(BRUSSELS, BRUSSELS_FALL_EVE, 120) == [
        ("00:00 CEST", 120),
        ("02:00 CEST", 60),  # 02:00-04:00, cut when the clock turns back ...
        ("02:00 CET", 120),  # ... and offered again from the second 02:00
        ("04:00 CET", 120),
    ]


def test_fall_back_repeated_hour_outside_opening_hours_changes_nothing() -> None:
    result = s.pickup_slots(EVERY_DAY_8_TO_8, [], BRUSSELS, BRUSSELS_FALL_EVE, policy(60), {}, 1)
    assert len(result) == 12
    assert all(minutes_long(slot) == 60 for slot in result)
    assert wall(result[0].start, BRUSSELS) == "2026-10-25 08:00 CET"
    assert result[0].start == utc(2026, 10, 25, 7)


def test_new_york_dst_nights() -> None:
    spring_eve = utc(2026, 3, 8, 5)  # 00:00 EST; clocks go 02:00 -> 03:00
    assert night(NEW_YORK, spring_eve, 60) == [
        ("00:00 EST", 60),
        ("01:00 EST", 60),
        ("03:00 EDT", 60),
        ("04:00 EDT", 60),
    ]
    fall_eve = utc(2026, 11, 1, 4)  # 00:00 EDT; clocks go 02:00 -> 01:00
    assert night(NEW_YORK, fall_eve, 60) == [
        ("00:00 EDT", 60),
        ("01:00 EDT", 60),
        ("01:00 EST", 60),
        ("02:00 EST", 60),
        ("03:00 EST", 60),
        ("04:00 EST", 60),
    ]


def test_fall_back_slots_have_distinct_keys() -> None:
    result = s.pickup_slots(ALL_DAY, [], BRUSSELS, BRUSSELS_FALL_EVE, policy(60), {}, 2)
    keys = [slot.key for slot in result if wall(slot.start, BRUSSELS).startswith("2026-10-25")]
    assert len(keys) == len(set(keys)) == 25  # a 25-hour day
    assert {"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"} <= set(keys)  # both 02:00s
    booked_first = s.pickup_slots(
        ALL_DAY, [], BRUSSELS, BRUSSELS_FALL_EVE, policy(60), {"2026-10-25T00:00:00Z": 1}, 1
    )
    assert listing(booked_first, BRUSSELS)[2] == ("02:00 CET", 60)


# --- keys and lookup ----------------------------------------------------------------------------------------


def test_slot_key_is_utc_iso_with_z() -> None:
    assert s.slot_key(utc(2026, 6, 6, 7)) == "2026-06-06T07:00:00Z"
    assert s.slot_key(datetime(2026, 6, 6, 9, tzinfo=ZoneInfo(BRUSSELS))) == "2026-06-06T07:00:00Z"
    with pytest.raises(ValueError):
        s.slot_key(datetime(2026, 6, 6, 7))
    with pytest.raises(ValueError):
        s.slot_key(utc(2026, 6, 6, 7, 0, 0, 1))


def test_find_slot_matches_the_key_exactly() -> None:
    result = s.pickup_slots(SATURDAY_WITH_LUNCH_BREAK, [], BRUSSELS, utc(2026, 6, 5, 18), policy(60), {}, 2)
    found = s.find_slot(result, "2026-06-06T11:30:00Z")
    assert found is not None and wall(found.start, BRUSSELS) == "2026-06-06 13:30 CEST"
    assert s.find_slot(result, "2026-06-06T11:30:00+00:00") is None  # another spelling is not the key
    assert s.find_slot(result, "2026-06-06T10:30:00Z") is None  # lunch break
    assert s.find_slot([], "2026-06-06T11:30:00Z") is None


# --- validation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"length_minutes": 14, "capacity": 1},
        {"length_minutes": 241, "capacity": 1},
        {"length_minutes": 30.0, "capacity": 1},
        {"length_minutes": 30, "capacity": 0},
        {"length_minutes": 30, "capacity": 101},
        {"length_minutes": 30, "capacity": True},
        {"length_minutes": 30, "capacity": 1, "preparation_minutes": -1},
        {"length_minutes": 30, "capacity": 1, "preparation_minutes": 10081},
        {"length_minutes": "30", "capacity": 1},
    ],
)
def test_slot_policy_rejects_out_of_range_values(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SlotPolicy(**fields)


def test_slot_policy_bounds_are_inclusive() -> None:
    SlotPolicy(length_minutes=15, capacity=1, preparation_minutes=0)
    SlotPolicy(length_minutes=240, capacity=100, preparation_minutes=10080)


@pytest.mark.parametrize(
    ("hours", "closed", "zone", "now", "booked", "horizon"),
    [
        (EVERY_DAY_8_TO_8, [], BRUSSELS, datetime(2026, 6, 1, 8), {}, 14),  # naive now
        (EVERY_DAY_8_TO_8, [], "Europe/Ghent", utc(2026, 6, 1), {}, 14),
        ({"mon": [("10:00", "09:00")]}, [], BRUSSELS, utc(2026, 6, 1), {}, 14),
        (EVERY_DAY_8_TO_8, "2026-06-01", BRUSSELS, utc(2026, 6, 1), {}, 14),
        (EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1), {"2026-06-01T08:00:00Z": -1}, 14),
        (EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1), {"2026-06-01T08:00:00Z": True}, 14),
        (EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1), {"2026-06-01T08:00:00Z": Decimal(1)}, 14),
        (EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1), {}, -1),
        (EVERY_DAY_8_TO_8, [], BRUSSELS, utc(2026, 6, 1), {}, 367),
    ],
)
def test_pickup_slots_rejects_bad_input(
    hours: Any, closed: Any, zone: str, now: datetime, booked: Any, horizon: int
) -> None:
    with pytest.raises(ValueError):
        s.pickup_slots(hours, closed, zone, now, policy(30), booked, horizon)


# --- ready_by -----------------------------------------------------------------------------------------------

SPLIT_MONDAY: Hours = {"mon": [("09:00", "12:00"), ("13:00", "18:00")]}
MONDAY = date(2026, 6, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "within", "expected"),
    [
        (at(MONDAY, 9), 2, at(MONDAY, 11)),  # open: counted from now
        # Ready at the closing instant: callers wanting "collect from" take next_opening of the answer.
        (at(MONDAY, 9, 30), 2.5, at(MONDAY, 12)),
        (at(MONDAY, 9, 30), 3, at(MONDAY, 13, 30)),  # the closed hour 12:00-13:00 does not count
        (at(MONDAY, 11), 2, at(MONDAY, 14)),  # across the lunch break
        (at(MONDAY, 7), 1, at(MONDAY, 10)),  # closed: counted from the next opening
        (at(MONDAY, 12, 15), 0.25, at(MONDAY, 13, 15)),
        (at(MONDAY, 17), 1, at(MONDAY, 18)),  # exactly up to closing: ready at closing time
        (at(MONDAY, 17), 2, at(MONDAY + timedelta(days=7), 10)),  # the rest next Monday
        (at(MONDAY, 10), 0, at(MONDAY, 10)),
        (at(MONDAY, 12, 30), 0, at(MONDAY, 13)),
    ],
)
def test_ready_by_counts_open_hours(now: datetime, within: float, expected: datetime) -> None:
    result = s.ready_by(SPLIT_MONDAY, [], "UTC", now, within)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


def test_ready_by_skips_closed_dates_and_uses_the_shop_zone() -> None:
    friday_late = utc(2026, 6, 5, 15)  # 17:00 in Brussels: one hour left on Friday
    weekdays = {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    assert s.ready_by(weekdays, [], BRUSSELS, friday_late, 3) == utc(2026, 6, 8, 9)  # Monday 11:00 local
    assert s.ready_by(weekdays, ["2026-06-08"], BRUSSELS, friday_late, 3) == utc(2026, 6, 9, 9)


def test_ready_by_none_when_the_shop_does_not_open_or_not_enough() -> None:
    now = at(MONDAY, 8)
    assert s.ready_by({}, [], "UTC", now, 1) is None
    closed_two_weeks = [(MONDAY + timedelta(days=n)).isoformat() for n in range(15)]
    assert s.ready_by(SPLIT_MONDAY, closed_two_weeks, "UTC", now, 1) is None
    # Eight open hours a week: 16 fit in the 14 days after the first opening, 17 do not.
    assert s.ready_by(SPLIT_MONDAY, [], "UTC", now, 16) == at(MONDAY + timedelta(days=7), 18)
    assert s.ready_by(SPLIT_MONDAY, [], "UTC", now, 17) is None
    assert s.ready_by(SPLIT_MONDAY, [], "UTC", now, 17, horizon_days=21) == at(
        MONDAY + timedelta(days=14), 10
    )


def test_ready_by_first_opening_late_in_the_horizon_still_counts() -> None:
    # Opens 13 days from now; the promise runs beyond now + 14 days, which is fine.
    closed = [(MONDAY + timedelta(days=n)).isoformat() for n in range(7)]
    assert s.ready_by(SPLIT_MONDAY, closed, "UTC", at(MONDAY, 17), 8) == at(MONDAY + timedelta(days=7), 18)


def test_ready_by_counts_real_time_across_dst() -> None:
    # Spring forward in Brussels: 01:00-04:00 local holds only two real hours.
    spring = {"sun": [("01:00", "04:00")]}
    assert s.ready_by(spring, [], BRUSSELS, utc(2026, 3, 29, 0), 2) == utc(2026, 3, 29, 2)  # 04:00 CEST
    assert s.ready_by(ALL_DAY, [], BRUSSELS, utc(2026, 3, 29, 0, 30), 1) == utc(2026, 3, 29, 1, 30)
    # Fall back: 01:00-04:00 local holds four real hours, the repeated one counting twice.
    fall = {"sun": [("01:00", "04:00")]}
    start = utc(2026, 10, 24, 23)  # 01:00 CEST
    assert s.ready_by(fall, [], BRUSSELS, start, 3) == utc(2026, 10, 25, 2)  # 03:00 CET
    assert s.ready_by(fall, [], BRUSSELS, start, 4) == utc(2026, 10, 25, 3)  # 04:00 CET, closing
    # Two intervals interleave on that night: 02:30 CEST comes before the second pass of 02:00-02:30.
    split = {"sun": [("01:00", "02:30"), ("02:30", "04:00")]}
    assert s.ready_by(split, [], BRUSSELS, start, 4) == utc(2026, 10, 25, 3)


@pytest.mark.parametrize("within", [-0.5, float("nan"), float("inf"), True, "2", 24 * 14 + 1])
def test_ready_by_rejects_bad_hours(within: Any) -> None:
    with pytest.raises(ValueError):
        s.ready_by(SPLIT_MONDAY, [], "UTC", at(MONDAY, 8), within)


def test_ready_by_rejects_a_naive_now_and_bad_horizon() -> None:
    with pytest.raises(ValueError):
        s.ready_by(SPLIT_MONDAY, [], "UTC", datetime(2026, 6, 1, 8), 1)
    with pytest.raises(ValueError):
        s.ready_by(SPLIT_MONDAY, [], "UTC", at(MONDAY, 8), 1, horizon_days=400)


# --- properties ---------------------------------------------------------------------------------------------

# The 2026 UTC-offset changes of each zone: Lord Howe moves by 30 minutes, Santiago at local midnight.
TRANSITIONS: dict[str, list[datetime]] = {
    BRUSSELS: [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)],
    NEW_YORK: [utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)],
    "Australia/Lord_Howe": [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)],
    "America/Santiago": [utc(2026, 4, 5, 3), utc(2026, 9, 6, 4)],
    "Asia/Kathmandu": [],
    "UTC": [],
}
ZONES = list(TRANSITIONS)
# Day shapes, in minutes: all day, several through the small hours where DST changes happen, and shop-like.
DAY_SHAPES = [
    [(0, 1440)],
    [(0, 300)],
    [(60, 240)],
    [(90, 210)],
    [(120, 180)],
    [(0, 150), (150, 1440)],
    [(1320, 1440)],
    [(480, 1200)],
    [(540, 750), (810, 1080)],
]


def as_hh_mm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_intervals(draw: st.DrawFn) -> list[tuple[int, int]]:
    # An even number of distinct sorted boundaries pairs up into sorted, non-overlapping intervals.
    bounds = sorted(draw(st.sets(st.integers(0, 24 * 60), min_size=2, max_size=2 * h.MAX_INTERVALS_PER_DAY)))
    bounds = bounds[: len(bounds) // 2 * 2]
    return [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]


@st.composite
def opening_hours(draw: st.DrawFn) -> Hours:
    result: Hours = {}
    for day in h.DAYS:
        # Most days open, so the DST day usually is; hypothesis favours a list's first element.
        if not draw(st.sampled_from([True, True, True, False]), label=f"{day} open"):
            continue
        shaped = draw(st.sampled_from([True, True, False]))
        intervals = draw(st.sampled_from(DAY_SHAPES) if shaped else day_intervals())
        result[day] = [(as_hh_mm(opens), as_hh_mm(closes)) for opens, closes in intervals]
    return result


@st.composite
def zones_and_instants(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and an instant, mostly in the two days before one of that zone's offset changes."""
    zone = draw(st.sampled_from(ZONES))
    if TRANSITIONS[zone] and draw(st.sampled_from([True] * 7 + [False])):
        anchor = draw(st.sampled_from(TRANSITIONS[zone]))
        minutes = draw(st.integers(-30 * 60, 2 * 60))
        seconds = draw(st.sampled_from([0, 0, 0, 1, 59]))
        return zone, anchor + timedelta(minutes=minutes, seconds=seconds)
    anywhere = st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    )
    return zone, draw(anywhere)


def closed_dates_near(now: datetime) -> st.SearchStrategy[list[str]]:
    day = now.date()
    return st.lists(st.integers(-1, 4).map(lambda n: (day + timedelta(days=n)).isoformat()), max_size=3)


policies = st.builds(
    SlotPolicy,
    length_minutes=st.sampled_from([15, 20, 30, 45, 60, 90, 120]) | st.integers(15, 240),
    capacity=st.integers(1, 4),
    # Mostly short: a preparation beyond the (short) horizon leaves nothing to compare.
    preparation_minutes=st.sampled_from([0, 0, 0, 15, 60, 240]) | st.integers(0, 24 * 60),
)


def clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """The shop's wall clock at ``instant``, as a naive local datetime."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def since_midnight(local: datetime) -> int:
    return local.hour * 60 + local.minute


def minutes_of(hh_mm: str) -> int:
    return int(hh_mm[:2]) * 60 + int(hh_mm[3:])


def reference_open(hours: Hours, closed: list[str], zone: str, instant: datetime) -> bool:
    """Open per the hours model, spelled out: local date not closed, local minute in [opens, closes)."""
    local = clock(instant, ZoneInfo(zone))
    if local.date().isoformat() in closed:
        return False
    return any(
        minutes_of(opens) <= since_midnight(local) < minutes_of(closes)
        for opens, closes in hours.get(h.DAYS[local.weekday()], [])
    )


def reference_slots(
    hours: Hours,
    closed: list[str],
    zone_name: str,
    now: datetime,
    slot_policy: SlotPolicy,
    booked: Mapping[str, int],
    horizon_days: int,
) -> list[tuple[datetime, datetime, int]]:
    """The rule, by watching the clock every minute: wherever it shows a window start a slot begins, and
    it lasts until the clock leaves the window (or the day) or turns back."""
    zone = ZoneInfo(zone_name)
    length = slot_policy.length_minutes
    earliest = now + timedelta(minutes=slot_policy.preparation_minutes)
    limit = now + timedelta(days=horizon_days)
    instant = earliest.replace(second=0, microsecond=0)
    if instant < earliest:
        instant += MINUTE
    expected: list[tuple[datetime, datetime, int]] = []
    while instant < limit:
        local = clock(instant, zone)
        if local.date().isoformat() not in closed:
            minute = since_midnight(local)
            for opens, closes in hours.get(h.DAYS[local.weekday()], []):
                first, last = minutes_of(opens), minutes_of(closes)
                if first <= minute and (minute - first) % length == 0 and minute + length <= last:
                    end, previous = instant + MINUTE, local
                    while True:
                        reading = clock(end, zone)
                        if (
                            reading.date() != local.date()
                            or not minute <= since_midnight(reading) < minute + length
                            or reading <= previous
                        ):
                            break
                        end, previous = end + MINUTE, reading
                    remaining = slot_policy.capacity - booked.get(instant.strftime("%Y-%m-%dT%H:%M:%SZ"), 0)
                    if remaining > 0:
                        expected.append((instant, end, remaining))
        instant += MINUTE
    return expected


def assert_slot_invariants(
    result: list[Slot],
    hours: Hours,
    closed: list[str],
    zone_name: str,
    now: datetime,
    slot_policy: SlotPolicy,
    booked: Mapping[str, int],
    horizon_days: int,
) -> None:
    """The listed guarantees, each checked directly rather than through the brute force."""
    zone = ZoneInfo(zone_name)
    length = timedelta(minutes=slot_policy.length_minutes)
    for slot in result:
        assert slot.start.tzinfo is UTC and slot.end.tzinfo is UTC
        # Prep and horizon.
        assert now + timedelta(minutes=slot_policy.preparation_minutes) <= slot.start
        assert slot.start < now + timedelta(days=horizon_days)
        # Inside one opening interval of its local day, never on a closed date.
        local_start = clock(slot.start, zone)
        local_last = clock(slot.end - timedelta(microseconds=1), zone)
        assert local_start.date() == local_last.date()
        assert local_start.date().isoformat() not in closed
        assert any(
            minutes_of(opens) <= since_midnight(local_start)
            and since_midnight(local_last) < minutes_of(closes)
            for opens, closes in hours.get(h.DAYS[local_start.weekday()], [])
        )
        assert h.is_open(hours, closed, zone_name, slot.start)
        assert h.is_open(hours, closed, zone_name, slot.end - timedelta(microseconds=1))
        # Length: exact (in real and wall-clock minutes) unless the UTC offset changes within the slot.
        assert timedelta(0) < slot.end - slot.start <= length
        if slot.start.astimezone(zone).utcoffset() == slot.end.astimezone(zone).utcoffset():
            assert slot.end - slot.start == length
            assert clock(slot.end, zone) - local_start == length
        # Capacity.
        assert slot.remaining == slot_policy.capacity - booked.get(s.slot_key(slot.start), 0) > 0
    # Sorted, no overlaps.
    for before, after in itertools.pairwise(result):
        assert before.end <= after.start


@settings(max_examples=400, deadline=None)
@given(
    hours=opening_hours(),
    zone_and_now=zones_and_instants(),
    slot_policy=policies,
    horizon_days=st.integers(1, 3),
    data=st.data(),
)
def test_slots_match_the_wall_clock_rule(
    hours: Hours,
    zone_and_now: tuple[str, datetime],
    slot_policy: SlotPolicy,
    horizon_days: int,
    data: st.DataObject,
) -> None:
    zone, now = zone_and_now
    closed = data.draw(closed_dates_near(now), label="closed")
    unbooked = s.pickup_slots(hours, closed, zone, now, slot_policy, {}, horizon_days)
    keys = [slot.key for slot in unbooked]
    booked = data.draw(
        st.dictionaries(st.sampled_from(keys), st.integers(0, slot_policy.capacity + 1))
        if keys
        else st.just({}),
        label="booked",
    )
    result = s.pickup_slots(hours, closed, zone, now, slot_policy, booked, horizon_days)
    assert [(slot.start, slot.end, slot.remaining) for slot in result] == reference_slots(
        hours, closed, zone, now, slot_policy, booked, horizon_days
    )
    assert_slot_invariants(result, hours, closed, zone, now, slot_policy, booked, horizon_days)
    # Shown by --hypothesis-show-statistics: how often the DST cases were actually reached.
    length = timedelta(minutes=slot_policy.length_minutes)
    readings = [wall(slot.start, zone)[:16] for slot in result]
    event("no slots" if not result else "some slots")
    if any(abs(slot.start - change) < timedelta(hours=3) for change in TRANSITIONS[zone] for slot in result):
        event("a slot within 3 hours of a DST change")
    if any(slot.end - slot.start != length for slot in result):
        event("a slot shortened by a DST change")
    if len(set(readings)) < len(readings):
        event("a wall-clock start offered twice")


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from([zone for zone, changes in TRANSITIONS.items() if changes]),
    data=st.data(),
    shape=st.sampled_from(DAY_SHAPES[:7]),
    length=st.integers(15, 240),
    preparation=st.sampled_from([0, 0, 15]) | st.integers(0, 180),
    hours_before=st.integers(0, 12),
)
def test_dst_nights_match_the_wall_clock_rule(
    zone: str,
    data: st.DataObject,
    shape: list[tuple[int, int]],
    length: int,
    preparation: int,
    hours_before: int,
) -> None:
    """Every night of an offset change, open through the small hours, with arbitrary slot lengths."""
    change = data.draw(st.sampled_from(TRANSITIONS[zone]), label="change")
    hours = {day: [(as_hh_mm(opens), as_hh_mm(closes)) for opens, closes in shape] for day in h.DAYS}
    now = change - timedelta(hours=hours_before)
    slot_policy = SlotPolicy(length_minutes=length, capacity=2, preparation_minutes=preparation)
    result = s.pickup_slots(hours, [], zone, now, slot_policy, {}, 1)
    assert [(slot.start, slot.end, slot.remaining) for slot in result] == reference_slots(
        hours, [], zone, now, slot_policy, {}, 1
    )
    assert_slot_invariants(result, hours, [], zone, now, slot_policy, {}, 1)
    readings = [wall(slot.start, zone)[:16] for slot in result]
    if len(set(readings)) < len(readings):
        event("a wall-clock start offered twice")
    if any(slot.end - slot.start != timedelta(minutes=length) for slot in result):
        event("a slot shortened by a DST change")


@settings(max_examples=40, deadline=None)
@given(hours=opening_hours(), zone_and_now=zones_and_instants(), slot_policy=policies, data=st.data())
def test_slot_invariants_over_the_full_horizon(
    hours: Hours, zone_and_now: tuple[str, datetime], slot_policy: SlotPolicy, data: st.DataObject
) -> None:
    zone, now = zone_and_now
    closed = data.draw(closed_dates_near(now), label="closed")
    result = s.pickup_slots(hours, closed, zone, now, slot_policy, {}, 14)
    assert_slot_invariants(result, hours, closed, zone, now, slot_policy, {}, 14)


def reference_ready_by(
    hours: Hours, closed: list[str], zone: str, now: datetime, within_minutes: int, horizon_days: int
) -> datetime | None:
    first = h.next_opening(hours, closed, zone, now, horizon_days=horizon_days)
    if first is None or within_minutes == 0:
        return first
    counted, minute = 0, first
    while minute < first + timedelta(days=horizon_days):
        if reference_open(hours, closed, zone, minute):
            counted += 1
            if counted == within_minutes:
                return minute + MINUTE
        minute += MINUTE
    return None


@settings(max_examples=120, deadline=None)
@given(
    hours=opening_hours(),
    zone_and_now=zones_and_instants(),
    within_minutes=st.sampled_from([0, 1, 30, 60, 90, 180, 600]) | st.integers(0, 24 * 60),
    data=st.data(),
)
def test_ready_by_matches_counting_open_minutes(
    hours: Hours, zone_and_now: tuple[str, datetime], within_minutes: int, data: st.DataObject
) -> None:
    zone, now = zone_and_now
    now = now.replace(second=0, microsecond=0)  # the brute force counts whole minutes
    closed = data.draw(closed_dates_near(now), label="closed")
    horizon_days = 2
    result = s.ready_by(hours, closed, zone, now, within_minutes / 60, horizon_days=horizon_days)
    assert result == reference_ready_by(hours, closed, zone, now, within_minutes, horizon_days)


# --- speed --------------------------------------------------------------------------------------------------


def test_a_two_week_listing_of_quarter_hours_is_fast() -> None:
    seconds = bench_slots()
    print(f"pickup_slots, 14 days of 15-minute slots 08:00-20:00: {seconds * 1000:.1f} ms")
    # Milliseconds on a laptop; the bound only catches an accidental quadratic or per-slot zone lookup.
    assert seconds < 0.25
