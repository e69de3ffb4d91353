"""Opening hours: validation, "open now" and "next opening", evaluated in the shop's own time zone.

Hours are local wall-clock times per weekday (``{"mon": [("09:00", "12:00"), ("13:00", "18:00")], ...}``);
a missing or empty day is closed. Intervals are half-open, ``[opens, closes)``: a shop closing at 18:00
is closed at 18:00:00. ``closes`` may be ``"24:00"`` (end of day); overnight intervals are not allowed, so
a shop open past midnight uses ``18:00-24:00`` on one day and ``00:00-02:00`` on the next.
``closed_dates`` are ISO dates in the shop's local calendar and win over the weekly hours.

Because hours are wall-clock times, a DST change shifts the UTC instant but not the local answer. On a
fall-back day a repeated wall time is open both times it occurs; on a spring-forward day a wall time
inside the gap never occurs, and an interval starting in the gap opens at the first instant after it.

Pure standard library: evaluated for every shop in every listing, so no I/O beyond zoneinfo's cached
tz database reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 4

# Already-validated hours as stored or decoded: tuples from msgspec, lists from JSON/DynamoDB.
OpeningHours = Mapping[str, Sequence[Sequence[str]]]

_MINUTES_PER_DAY = 24 * 60
# [0-9] rather than \d: \d also matches non-ASCII (e.g. Arabic-Indic) digits, which int() would accept.
_HH_MM = re.compile(r"([0-9]{2}):([0-9]{2})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Names ZoneInfo accepts but whose meaning depends on the host, not on the shop.
_HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})


def _minutes(value: object, *, end_of_day_allowed: bool) -> int | None:
    """Minutes since midnight for a strict "HH:MM", or None when malformed."""
    if not isinstance(value, str):
        return None
    match = _HH_MM.fullmatch(value)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if hours < 24 and minutes < 60:
        return hours * 60 + minutes
    if end_of_day_allowed and hours == 24 and minutes == 0:
        return _MINUTES_PER_DAY
    return None


def _is_list_like(value: object) -> TypeGuard[Sequence[object]]:
    # A string is a Sequence too, and "09:00" must not pass as a five-element interval list.
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def hours_problems(hours: object, prefix: str = "opening_hours") -> list[tuple[str, str]]:
    """Everything wrong with an opening-hours mapping, as (field_path, message) pairs; empty when valid.

    Paths are ``prefix`` plus the day and index, e.g. ``("opening_hours.mon[1].closes", "must be after
    opens")``, so a 400 response can name each bad field; pass ``prefix`` to nest them elsewhere. Never
    raises, whatever the input. Day keys are exact lowercase names; a day may be absent (closed).
    """
    if not isinstance(hours, Mapping):
        return [(prefix, "must be an object mapping day names to lists of [opens, closes] intervals")]
    problems: list[tuple[str, str]] = []
    for day, intervals in hours.items():
        day_path = f"{prefix}.{day}"
        if not isinstance(day, str) or day not in DAYS:
            problems.append((day_path, f"unknown day; expected one of {', '.join(DAYS)}"))
            continue
        if not _is_list_like(intervals):
            problems.append((day_path, "must be a list of [opens, closes] intervals"))
            continue
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            # Per-interval detail on an oversized list would only bury this one actionable message.
            problems.append((day_path, f"must have at most {MAX_INTERVALS_PER_DAY} intervals"))
            continue
        previous: tuple[int, int] | None = None
        for position, interval in enumerate(intervals):
            path = f"{day_path}[{position}]"
            if not _is_list_like(interval) or len(interval) != 2:
                problems.append((path, "must be a pair [opens, closes]"))
                continue
            opens = _minutes(interval[0], end_of_day_allowed=False)
            closes = _minutes(interval[1], end_of_day_allowed=True)
            if opens is None:
                problems.append((f"{path}.opens", "must be a time HH:MM between 00:00 and 23:59"))
            if closes is None:
                problems.append((f"{path}.closes", "must be a time HH:MM between 00:00 and 24:00"))
            if opens is None or closes is None:
                continue
            if closes <= opens:
                problems.append((f"{path}.closes", "must be after opens"))
                continue
            if previous is not None:
                if opens < previous[0]:
                    problems.append((f"{path}.opens", "intervals must be sorted by opening time"))
                elif opens < previous[1]:
                    problems.append((f"{path}.opens", "overlaps the previous interval"))
            previous = (opens, closes)
    return problems


def closed_dates_problems(closed_dates: object, prefix: str = "closed_dates") -> list[tuple[str, str]]:
    """(field_path, message) pairs for a closed-dates list; each entry must be a real "YYYY-MM-DD" date.

    Strict format on purpose: ``date.fromisoformat`` also accepts "20261225" and week dates, which would
    never match the ``isoformat()`` string :func:`is_open` compares against.
    """
    if not _is_list_like(closed_dates):
        return [(prefix, "must be a list of dates YYYY-MM-DD")]
    problems: list[tuple[str, str]] = []
    for position, value in enumerate(closed_dates):
        path = f"{prefix}[{position}]"
        if not isinstance(value, str) or _ISO_DATE.fullmatch(value) is None:
            problems.append((path, "must be a date YYYY-MM-DD"))
            continue
        try:
            date.fromisoformat(value)
        except ValueError:
            problems.append((path, "is not a valid calendar date"))
    return problems


def is_valid_timezone(name: object) -> bool:
    """Whether ``name`` is an IANA zone this runtime can load (e.g. "Europe/Brussels"); never raises."""
    if not isinstance(name, str) or not name or name in _HOST_DEPENDENT_ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory such as "Europe" or an unreadable file; ValueError: absolute/relative paths.
        return False
    return True


def _zone(tz_name: str) -> ZoneInfo:
    if not is_valid_timezone(tz_name):
        raise ValueError(f"unknown time zone {tz_name!r}")
    return ZoneInfo(tz_name)


def _schedule(hours: OpeningHours) -> dict[str, list[tuple[int, int]]]:
    """Hours as minute ranges per day; malformed data is a bug upstream, so it raises rather than guess."""
    problems = hours_problems(hours)
    if problems:
        path, message = problems[0]
        raise ValueError(f"invalid opening hours: {path} {message}")
    # Validated above, so a direct slice parse is safe ("24:00" becomes 1440).
    return {
        day: [(_hh_mm_to_minutes(opens), _hh_mm_to_minutes(closes)) for opens, closes in intervals]
        for day, intervals in hours.items()
    }


def _hh_mm_to_minutes(value: str) -> int:
    return int(value[:2]) * 60 + int(value[3:])


def _closed_set(closed_dates: Iterable[str]) -> frozenset[str]:
    # A bare string is iterable too and would silently become a set of characters.
    if isinstance(closed_dates, str):
        raise ValueError("closed_dates must be a list of ISO dates, not a string")
    return frozenset(closed_dates)


def _require_aware(now: datetime) -> None:
    # A naive datetime would be read as the server's local time, which on Lambda is UTC only by accident.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _open_at(schedule: Mapping[str, list[tuple[int, int]]], closed: frozenset[str], local: datetime) -> bool:
    if local.date().isoformat() in closed:
        return False
    # Whole microseconds keep "closes" exclusive down to the last instant (17:59:59.999999 is open).
    since_midnight = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
    return any(
        opens * 60_000_000 <= since_midnight < closes * 60_000_000
        for opens, closes in schedule.get(DAYS[local.weekday()], ())
    )


def is_open(hours: OpeningHours, closed_dates: Iterable[str], tz_name: str, now: datetime) -> bool:
    """Whether the shop is open at the aware instant ``now``, judged by its local wall clock in ``tz_name``.

    Raises ValueError for a naive ``now``, an unknown zone, or hours that fail :func:`hours_problems`.
    """
    _require_aware(now)
    zone = _zone(tz_name)
    return _open_at(_schedule(hours), _closed_set(closed_dates), now.astimezone(zone))


def _offset_at(instant: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(instant, zone).utcoffset()


def _first_instant_with_offset_of(earlier: datetime, later: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant in (earlier, later] where the zone switches to the offset it has at ``later``.

    zoneinfo does not expose its transition table, so bisect over whole seconds (transitions are on
    whole seconds); at most ~20 steps for any real gap or a whole day.
    """
    low, high = int(earlier.timestamp()), int(later.timestamp())
    target = _offset_at(high, zone)
    while high - low > 1:
        mid = (low + high) // 2
        if _offset_at(mid, zone) == target:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _instants_of_wall_time(day: date, minutes: int, zone: ZoneInfo) -> list[datetime]:
    """Every UTC instant at which the local clock reads ``day`` + ``minutes`` (24:00 = next midnight).

    One instant normally, two on a fall-back overlap, and for a wall time skipped by spring-forward the
    first instant after the gap.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    instants: list[datetime] = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall and instant not in instants:
            instants.append(instant)
    if not instants:
        # In a gap, fold=0 maps with the offset before the transition (the later UTC instant) and fold=1
        # with the one after (the earlier), so the transition lies between them.
        earlier, later = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
        instants.append(_first_instant_with_offset_of(earlier, later, zone))
    return sorted(instants)


def _transition_during(day: date, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a UTC-offset change during local ``day``, if any (assumes at most one per day)."""
    start = _instants_of_wall_time(day, 0, zone)[0]
    end = _instants_of_wall_time(day + timedelta(days=1), 0, zone)[0]
    if start.astimezone(zone).utcoffset() == end.astimezone(zone).utcoffset():
        return None
    return _first_instant_with_offset_of(start, end, zone)


def next_opening(
    hours: OpeningHours,
    closed_dates: Iterable[str],
    tz_name: str,
    now: datetime,
    horizon_days: int = 14,
) -> datetime | None:
    """The earliest aware-UTC instant ``t >= now`` at which :func:`is_open` is true, or None if there is
    none up to ``now + horizon_days`` days.

    Returns ``now`` (converted to UTC) when the shop is already open, so an API shows "opens at" only when
    closed. DST-correct: opening wall times are resolved in the zone, a start inside a spring-forward gap
    opens at the gap's end, and on a fall-back day the shop reopens when the repeated hour comes back
    into an interval.
    """
    _require_aware(now)
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days!r}")
    zone = _zone(tz_name)
    schedule = _schedule(hours)
    closed = _closed_set(closed_dates)
    now_utc = now.astimezone(UTC)
    if _open_at(schedule, closed, now_utc.astimezone(zone)):
        return now_utc
    limit = now_utc + timedelta(days=horizon_days)

    # Closed turns to open only where the local clock enters an interval: at an interval's opening wall
    # time, or when a DST transition makes the clock jump into one. Checking every such candidate with
    # _open_at also settles closed dates and intervals that vanish into a gap.
    today = now_utc.astimezone(zone).date()
    candidates: list[datetime] = []
    # From yesterday: a fall-back across midnight can replay yesterday's wall times after now.
    for offset in range(-1, horizon_days + 2):
        day = today + timedelta(days=offset)
        intervals = schedule.get(DAYS[day.weekday()])
        if not intervals or day.isoformat() in closed:
            continue
        for opens, _closes in intervals:
            candidates.extend(_instants_of_wall_time(day, opens, zone))
        transition = _transition_during(day, zone)
        if transition is not None:
            candidates.append(transition)
    for candidate in sorted(candidates):
        if now_utc < candidate <= limit and _open_at(schedule, closed, candidate.astimezone(zone)):
            return candidate
    return None
