"""Unit tests for chalicelib.shop.hours: validation, open-now and next-opening across time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.shop import hours as h

BRUSSELS = "Europe/Brussels"
WEEKDAYS_9_TO_5 = {day: [("09:00", "17:00")] for day in h.DAYS}
SPLIT_MONDAY = {"mon": [("09:00", "12:00"), ("13:00", "18:00")]}
# 2026-06-01 is a Monday.
MONDAY = date(2026, 6, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def at_utc(day: date, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, microsecond, tzinfo=UTC)


# --- is_open ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (at_utc(MONDAY, 8, 59, 59, 999_999), False),
        (at_utc(MONDAY, 9), True),  # opens is inclusive
        (at_utc(MONDAY, 11, 59, 59, 999_999), True),
        (at_utc(MONDAY, 12), False),  # closes is exclusive
        (at_utc(MONDAY, 12, 30), False),  # lunch break
        (at_utc(MONDAY, 13), True),
        (at_utc(MONDAY, 17, 59), True),
        (at_utc(MONDAY, 18), False),
        (at_utc(MONDAY, 0), False),
    ],
)
def test_is_open_at_interval_boundaries(instant: datetime, expected: bool) -> None:
    assert h.is_open(SPLIT_MONDAY, [], "UTC", instant) is expected


def test_missing_or_empty_day_is_closed() -> None:
    sunday = MONDAY - timedelta(days=1)
    assert not h.is_open(SPLIT_MONDAY, [], "UTC", at_utc(sunday, 10))
    assert not h.is_open({**SPLIT_MONDAY, "sun": []}, [], "UTC", at_utc(sunday, 10))


def test_closed_dates_win_over_hours() -> None:
    assert h.is_open(SPLIT_MONDAY, ["2026-06-02"], "UTC", at_utc(MONDAY, 10))
    assert not h.is_open(SPLIT_MONDAY, ["2026-06-01"], "UTC", at_utc(MONDAY, 10))


def test_closed_dates_use_the_local_calendar() -> None:
    always = {day: [("00:00", "24:00")] for day in h.DAYS}
    # 23:30 UTC on 24 December is already 00:30 on Christmas in Brussels (UTC+1).
    christmas_eve_late = utc(2026, 12, 24, 23, 30)
    assert not h.is_open(always, ["2026-12-25"], BRUSSELS, christmas_eve_late)
    assert h.is_open(always, ["2026-12-25"], "UTC", christmas_eve_late)


def test_end_of_day_24_00() -> None:
    late = {"mon": [("18:00", "24:00")], "tue": [("00:00", "02:00")]}
    tuesday = MONDAY + timedelta(days=1)
    assert h.is_open(late, [], "UTC", at_utc(MONDAY, 23, 59, 59, 999_999))
    assert h.is_open(late, [], "UTC", at_utc(tuesday, 0))
    assert h.is_open(late, [], "UTC", at_utc(tuesday, 1, 59))
    assert not h.is_open(late, [], "UTC", at_utc(tuesday, 2))
    assert not h.is_open({"mon": [("18:00", "24:00")]}, [], "UTC", at_utc(tuesday, 0))


def test_brussels_summer_and_winter_differ_at_the_same_utc_time() -> None:
    summer_wednesday, winter_wednesday = date(2026, 7, 15), date(2026, 1, 14)
    # 07:30 UTC is 09:30 CEST (open) in July but 08:30 CET (closed) in January.
    assert h.is_open(WEEKDAYS_9_TO_5, [], BRUSSELS, at_utc(summer_wednesday, 7, 30))
    assert not h.is_open(WEEKDAYS_9_TO_5, [], BRUSSELS, at_utc(winter_wednesday, 7, 30))
    # 15:30 UTC is 17:30 CEST (closed) in July but 16:30 CET (open) in January.
    assert not h.is_open(WEEKDAYS_9_TO_5, [], BRUSSELS, at_utc(summer_wednesday, 15, 30))
    assert h.is_open(WEEKDAYS_9_TO_5, [], BRUSSELS, at_utc(winter_wednesday, 15, 30))


def test_is_open_accepts_any_aware_datetime() -> None:
    in_brussels = datetime(2026, 7, 15, 9, 30, tzinfo=ZoneInfo(BRUSSELS))
    assert h.is_open(WEEKDAYS_9_TO_5, [], BRUSSELS, in_brussels)
    assert not h.is_open(WEEKDAYS_9_TO_5, [], "America/New_York", in_brussels)


def test_is_open_accepts_lists_as_intervals() -> None:
    from_json = {"mon": [["09:00", "12:00"]]}
    assert h.is_open(from_json, (), "UTC", at_utc(MONDAY, 10))


# Europe/Brussels springs forward on Sunday 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and falls
# back on Sunday 2026-10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET).
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)


def test_spring_forward_day() -> None:
    hours = {"sun": [("09:00", "18:00")]}
    # 09:00 is CEST that day, i.e. 07:00 UTC; one hour earlier than the day before.
    assert not h.is_open(hours, [], BRUSSELS, at_utc(SPRING_FORWARD, 6, 59))
    assert h.is_open(hours, [], BRUSSELS, at_utc(SPRING_FORWARD, 7))
    assert h.is_open(hours, [], BRUSSELS, at_utc(SPRING_FORWARD, 15, 59))
    assert not h.is_open(hours, [], BRUSSELS, at_utc(SPRING_FORWARD, 16))
    # An interval starting in the 02:00-03:00 gap is open from the first instant after the gap.
    early = {"sun": [("02:30", "04:00")]}
    assert not h.is_open(early, [], BRUSSELS, at_utc(SPRING_FORWARD, 0, 59, 59))
    assert h.is_open(early, [], BRUSSELS, at_utc(SPRING_FORWARD, 1))


def test_fall_back_day() -> None:
    hours = {"sun": [("09:00", "18:00")]}
    # 09:00 is CET that day, i.e. 08:00 UTC.
    assert not h.is_open(hours, [], BRUSSELS, at_utc(FALL_BACK, 7, 59))
    assert h.is_open(hours, [], BRUSSELS, at_utc(FALL_BACK, 8))
    assert not h.is_open(hours, [], BRUSSELS, at_utc(FALL_BACK, 17))
    # 02:30-02:45 happens twice: 00:30 UTC (CEST) and 01:30 UTC (CET).
    repeated = {"sun": [("02:30", "02:45")]}
    assert h.is_open(repeated, [], BRUSSELS, at_utc(FALL_BACK, 0, 30))
    assert not h.is_open(repeated, [], BRUSSELS, at_utc(FALL_BACK, 1))
    assert h.is_open(repeated, [], BRUSSELS, at_utc(FALL_BACK, 1, 30))


def test_is_open_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="aware"):
        h.is_open(SPLIT_MONDAY, [], "UTC", datetime(2026, 6, 1, 10))
    with pytest.raises(ValueError, match="time zone"):
        h.is_open(SPLIT_MONDAY, [], "Mars/Olympus_Mons", at_utc(MONDAY, 10))
    with pytest.raises(ValueError, match=r"opening_hours\.mon\[0\]\.opens"):
        h.is_open({"mon": [("9:00", "12:00")]}, [], "UTC", at_utc(MONDAY, 10))
    with pytest.raises(ValueError, match="closed_dates"):
        h.is_open(SPLIT_MONDAY, "2026-06-01", "UTC", at_utc(MONDAY, 10))


# --- next_opening ----------------------------------------------------------------------------------


def test_next_opening_later_today_and_after_lunch() -> None:
    assert h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(MONDAY, 7)) == at_utc(MONDAY, 9)
    assert h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(MONDAY, 12)) == at_utc(MONDAY, 13)


def test_next_opening_is_now_when_open() -> None:
    now = datetime(2026, 6, 1, 10, 30, tzinfo=ZoneInfo(BRUSSELS))  # 08:30 UTC, open in Brussels
    result = h.next_opening(SPLIT_MONDAY, [], BRUSSELS, now)
    assert result == now
    assert result is not None
    assert result.utcoffset() == timedelta(0)


def test_next_opening_returns_utc_in_the_shop_zone() -> None:
    # Monday 09:00 CEST is 07:00 UTC.
    result = h.next_opening(SPLIT_MONDAY, [], BRUSSELS, at_utc(MONDAY, 0))
    assert result == at_utc(MONDAY, 7)
    assert result is not None
    assert result.tzinfo is UTC


def test_next_opening_skips_to_next_week_and_over_closed_dates() -> None:
    next_monday = MONDAY + timedelta(days=7)
    assert h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(MONDAY, 18)) == at_utc(next_monday, 9)
    assert h.next_opening(SPLIT_MONDAY, ["2026-06-01"], "UTC", at_utc(MONDAY, 7)) == at_utc(next_monday, 9)


def test_next_opening_respects_the_horizon() -> None:
    tuesday = MONDAY + timedelta(days=1)
    assert h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(tuesday, 9), horizon_days=3) is None
    assert h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(tuesday, 9), horizon_days=7) == at_utc(
        MONDAY + timedelta(days=7), 9
    )
    assert h.next_opening(SPLIT_MONDAY, ["2026-06-08"], "UTC", at_utc(tuesday, 9), horizon_days=7) is None
    with pytest.raises(ValueError):
        h.next_opening(SPLIT_MONDAY, [], "UTC", at_utc(tuesday, 9), horizon_days=-1)


def test_next_opening_none_when_never_open() -> None:
    assert h.next_opening({}, [], BRUSSELS, at_utc(MONDAY, 9)) is None
    assert h.next_opening({"mon": []}, [], BRUSSELS, at_utc(MONDAY, 9)) is None


def test_next_opening_crosses_midnight_with_24_00() -> None:
    late = {"mon": [("18:00", "24:00")], "tue": [("00:00", "02:00")]}
    assert h.next_opening(late, [], "UTC", at_utc(MONDAY, 17)) == at_utc(MONDAY, 18)
    assert h.next_opening(late, [], "UTC", at_utc(MONDAY, 23)) == at_utc(MONDAY, 23)


def test_next_opening_on_spring_forward_day() -> None:
    start = at_utc(SPRING_FORWARD, 0)  # 01:00 CET
    assert h.next_opening({"sun": [("09:00", "18:00")]}, [], BRUSSELS, start) == at_utc(SPRING_FORWARD, 7)
    # 02:30 does not exist that day: the shop opens when the clock jumps to 03:00 CEST (01:00 UTC).
    assert h.next_opening({"sun": [("02:30", "04:00")]}, [], BRUSSELS, start) == at_utc(SPRING_FORWARD, 1)
    # An interval entirely inside the gap never happens that day; the next one is a week later (CEST).
    assert h.next_opening({"sun": [("02:00", "02:45")]}, [], BRUSSELS, start) == utc(2026, 4, 5, 0)


def test_next_opening_on_fall_back_day() -> None:
    repeated = {"sun": [("02:30", "02:45")]}
    assert h.next_opening(repeated, [], BRUSSELS, at_utc(FALL_BACK, 0)) == at_utc(FALL_BACK, 0, 30)
    # Between the two occurrences of 02:30 the next opening is the second one, in CET.
    assert h.next_opening(repeated, [], BRUSSELS, at_utc(FALL_BACK, 0, 50)) == at_utc(FALL_BACK, 1, 30)
    # Closed at 02:45 CEST, the clock falls back from 03:00 CEST to 02:00 CET, back inside 01:00-02:30.
    reentered = {"sun": [("01:00", "02:30")]}
    assert h.next_opening(reentered, [], BRUSSELS, at_utc(FALL_BACK, 0, 45)) == at_utc(FALL_BACK, 1)
    assert h.next_opening({"sun": [("09:00", "18:00")]}, [], BRUSSELS, at_utc(FALL_BACK, 0)) == at_utc(
        FALL_BACK, 8
    )


def test_next_opening_rejects_naive_now() -> None:
    with pytest.raises(ValueError):
        h.next_opening(SPLIT_MONDAY, [], "UTC", datetime(2026, 6, 1, 10))


# --- validation ------------------------------------------------------------------------------------


def test_valid_hours_have_no_problems() -> None:
    assert h.hours_problems({}) == []
    assert h.hours_problems(WEEKDAYS_9_TO_5) == []
    assert h.hours_problems({"mon": [("00:00", "12:00"), ("12:00", "24:00")]}) == []
    four = [("08:00", "09:00"), ("10:00", "11:00"), ("12:00", "13:00"), ("14:00", "15:00")]
    assert h.hours_problems({"sat": four, "sun": [["10:00", "11:00"]]}) == []


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (
            {"monday": [("09:00", "12:00")]},
            [("opening_hours.monday", "unknown day; expected one of mon, tue, wed, thu, fri, sat, sun")],
        ),
        (
            {"Mon": []},
            [("opening_hours.Mon", "unknown day; expected one of mon, tue, wed, thu, fri, sat, sun")],
        ),
        (
            {"mon": [("25:00", "26:00")]},
            [
                ("opening_hours.mon[0].opens", "must be a time HH:MM between 00:00 and 23:59"),
                ("opening_hours.mon[0].closes", "must be a time HH:MM between 00:00 and 24:00"),
            ],
        ),
        (
            {"mon": [("24:00", "24:00")]},
            [("opening_hours.mon[0].opens", "must be a time HH:MM between 00:00 and 23:59")],
        ),
        (
            {"mon": [("09:00", "24:30")]},
            [("opening_hours.mon[0].closes", "must be a time HH:MM between 00:00 and 24:00")],
        ),
        (
            {"mon": [("9:00", "12:00")]},
            [("opening_hours.mon[0].opens", "must be a time HH:MM between 00:00 and 23:59")],
        ),
        (
            {"mon": [("09:60", "12:00")]},
            [("opening_hours.mon[0].opens", "must be a time HH:MM between 00:00 and 23:59")],
        ),
        (
            {"mon": [(900, "12:00")]},
            [("opening_hours.mon[0].opens", "must be a time HH:MM between 00:00 and 23:59")],
        ),
        (
            {"mon": [("09:00", "12:00\n")]},
            [("opening_hours.mon[0].closes", "must be a time HH:MM between 00:00 and 24:00")],
        ),
        (
            {"mon": [("09:00", "12:00"), ("13:00", "12:30")]},
            [("opening_hours.mon[1].closes", "must be after opens")],
        ),
        ({"mon": [("09:00", "09:00")]}, [("opening_hours.mon[0].closes", "must be after opens")]),
        (
            {"tue": [("09:00", "12:00"), ("11:00", "14:00")]},
            [("opening_hours.tue[1].opens", "overlaps the previous interval")],
        ),
        (
            {"tue": [("13:00", "14:00"), ("09:00", "12:00")]},
            [("opening_hours.tue[1].opens", "intervals must be sorted by opening time")],
        ),
        ({"wed": "09:00-12:00"}, [("opening_hours.wed", "must be a list of [opens, closes] intervals")]),
        ({"wed": None}, [("opening_hours.wed", "must be a list of [opens, closes] intervals")]),
        ({"wed": [("09:00",)]}, [("opening_hours.wed[0]", "must be a pair [opens, closes]")]),
        ({"wed": ["09:00-12:00"]}, [("opening_hours.wed[0]", "must be a pair [opens, closes]")]),
        ({"wed": [{"opens": "09:00"}]}, [("opening_hours.wed[0]", "must be a pair [opens, closes]")]),
        ({"thu": [("08:00", "09:00")] * 5}, [("opening_hours.thu", "must have at most 4 intervals")]),
        (
            [("mon", "09:00", "12:00")],
            [("opening_hours", "must be an object mapping day names to lists of [opens, closes] intervals")],
        ),
        (
            None,
            [("opening_hours", "must be an object mapping day names to lists of [opens, closes] intervals")],
        ),
    ],
)
def test_hours_problems_name_each_bad_field(hours: Any, expected: list[tuple[str, str]]) -> None:
    assert h.hours_problems(hours) == expected


def test_hours_problems_reports_every_problem_with_a_custom_prefix() -> None:
    problems = h.hours_problems(
        {"mon": [("10:00", "09:00")], "funday": [], 3: [], "sun": [("00:00", "01:00"), ("00:30", "25:00")]},
        prefix="profile.opening_hours",
    )
    assert [path for path, _ in problems] == [
        "profile.opening_hours.mon[0].closes",
        "profile.opening_hours.funday",
        "profile.opening_hours.3",
        "profile.opening_hours.sun[1].closes",
    ]


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=4) | st.sampled_from(h.DAYS), children, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_hours_problems_never_raises(value: object) -> None:
    problems = h.hours_problems(value)
    assert all(isinstance(path, str) and isinstance(message, str) for path, message in problems)


def test_closed_dates_problems() -> None:
    assert h.closed_dates_problems(["2026-12-25", "2028-02-29"]) == []
    assert h.closed_dates_problems(["2026-02-30", "20261225", 20261225, "2026-12-25T00:00"]) == [
        ("closed_dates[0]", "is not a valid calendar date"),
        ("closed_dates[1]", "must be a date YYYY-MM-DD"),
        ("closed_dates[2]", "must be a date YYYY-MM-DD"),
        ("closed_dates[3]", "must be a date YYYY-MM-DD"),
    ]
    assert h.closed_dates_problems("2026-12-25") == [("closed_dates", "must be a list of dates YYYY-MM-DD")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Brussels", True),
        ("America/New_York", True),
        ("UTC", True),
        ("Mars/Olympus_Mons", False),
        ("europe/brussels", False),
        ("Europe/Brussels ", False),
        ("Europe", False),
        ("", False),
        ("/etc/localtime", False),
        ("../../etc/passwd", False),
        ("localtime", False),
        ("Europe/Brussels\x00", False),
        (None, False),
        (1, False),
    ],
)
def test_is_valid_timezone(name: Any, expected: bool) -> None:
    assert h.is_valid_timezone(name) is expected


# --- properties -----------------------------------------------------------------------------------

ZONES = [
    "Europe/Brussels",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
    "America/Santiago",
]


def as_hh_mm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def opening_hours(draw: st.DrawFn) -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = {}
    for day in draw(st.sets(st.sampled_from(h.DAYS))):
        # An even number of distinct sorted boundaries pairs up into sorted, non-overlapping intervals.
        bounds = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=2 * h.MAX_INTERVALS_PER_DAY)))
        bounds = bounds[: len(bounds) // 2 * 2]
        result[day] = [(as_hh_mm(bounds[i]), as_hh_mm(bounds[i + 1])) for i in range(0, len(bounds), 2)]
    return result


def random_instants() -> st.SearchStrategy[datetime]:
    anywhere = st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    )
    # Instants right at minute boundaries around Brussels' 2026 DST days, where bugs would hide.
    near_dst = st.builds(
        lambda day, minute, second: at_utc(day, 0) + timedelta(minutes=minute, seconds=second),
        st.sampled_from([SPRING_FORWARD, FALL_BACK, date(2026, 3, 8), date(2026, 11, 1)]),
        st.integers(-6 * 60, 30 * 60),
        st.sampled_from([0, 0, 59]),
    )
    return anywhere | near_dst


closed_date_lists = st.lists(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)).map(date.isoformat), max_size=10
)


def minutes_of(hh_mm: str) -> int:
    return int(hh_mm[:2]) * 60 + int(hh_mm[3:])


def reference_open(
    hours: dict[str, list[tuple[str, str]]], closed: list[str], zone: str, now: datetime
) -> bool:
    """The specification, spelled out independently: local date not closed, local time in [opens, closes)."""
    local = now.astimezone(ZoneInfo(zone))
    if local.date().isoformat() in closed:
        return False
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    intervals = hours.get(h.DAYS[local.weekday()], [])
    return any(minutes_of(opens) * 60 <= seconds < minutes_of(closes) * 60 for opens, closes in intervals)


@settings(max_examples=400, deadline=None)
@given(hours=opening_hours(), closed=closed_date_lists, zone=st.sampled_from(ZONES), now=random_instants())
def test_is_open_matches_local_wall_clock(
    hours: dict[str, list[tuple[str, str]]], closed: list[str], zone: str, now: datetime
) -> None:
    assert h.is_open(hours, closed, zone, now) is reference_open(hours, closed, zone, now)


@settings(max_examples=150, deadline=None)
@given(hours=opening_hours(), closed=closed_date_lists, zone=st.sampled_from(ZONES), now=random_instants())
def test_next_opening_is_the_first_open_minute(
    hours: dict[str, list[tuple[str, str]]], closed: list[str], zone: str, now: datetime
) -> None:
    horizon_days = 3
    result = h.next_opening(hours, closed, zone, now, horizon_days=horizon_days)
    # Brute force: every opening in these zones and years falls on a whole UTC minute.
    expected: datetime | None = None
    if reference_open(hours, closed, zone, now):
        expected = now
    else:
        limit = now + timedelta(days=horizon_days)
        minute = now.replace(second=0, microsecond=0)
        if minute <= now:
            minute += timedelta(minutes=1)
        while minute <= limit:
            if reference_open(hours, closed, zone, minute):
                expected = minute
                break
            minute += timedelta(minutes=1)
    assert result == expected
    if result is not None:
        assert result.utcoffset() == timedelta(0)
