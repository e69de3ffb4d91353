"""Unit tests for chalicelib.shop.geo: geohash vectors, distances and the near-me query ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.shop import geo

BRUSSELS_GRAND_PLACE = (50.8467, 4.3525)
GHENT_KORENMARKT = (51.0543, 3.7219)


def destination(lat: float, lng: float, bearing_deg: float, dist_km: float) -> tuple[float, float]:
    """The point reached from (lat, lng) along a great circle; used to sample points inside a circle."""
    angular = dist_km / geo.EARTH_RADIUS_KM
    phi1 = math.radians(lat)
    lambda1 = math.radians(lng)
    theta = math.radians(bearing_deg)
    sin_phi2 = math.sin(phi1) * math.cos(angular) + math.cos(phi1) * math.sin(angular) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(angular) * math.cos(phi1),
        math.cos(angular) - math.sin(phi1) * sin_phi2,
    )
    lng2 = (math.degrees(lambda2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lng2


def covered(ranges: list[geo.CellRange], lat: float, lng: float) -> bool:
    """Whether a shop at (lat, lng) would be returned by one of the queries, as DynamoDB would see it."""
    cell = geo.encode(lat, lng, geo.CELL_PRECISION)
    sort_key = geo.encode(lat, lng, geo.SORT_KEY_PRECISION) + "#x"
    return any(r.cell == cell and r.low <= sort_key <= r.high for r in ranges)


# --- encode / decode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lng", "precision", "expected"),
    [
        (57.64911, 10.40744, 11, "u4pruydqqvj"),
        (57.64911, 10.40744, 9, "u4pruydqq"),
        (GHENT_KORENMARKT[0], GHENT_KORENMARKT[1], 9, "u14dkwnhy"),
        (GHENT_KORENMARKT[0], GHENT_KORENMARKT[1], 3, "u14"),
        (BRUSSELS_GRAND_PLACE[0], BRUSSELS_GRAND_PLACE[1], 5, "u1517"),
        (0.0, 0.0, 5, "s0000"),
        (-90.0, -180.0, 3, "000"),
        (90.0, 180.0, 3, "zzz"),
    ],
)
def test_encode_known_vectors(lat: float, lng: float, precision: int, expected: str) -> None:
    assert geo.encode(lat, lng, precision) == expected


def test_encode_default_precision_is_nine() -> None:
    assert len(geo.encode(*GHENT_KORENMARKT)) == 9


def test_decode_bbox_known_vector() -> None:
    min_lat, min_lng, max_lat, max_lng = geo.decode_bbox("u4pruydqqvj")
    assert min_lat <= 57.64911 <= max_lat
    assert min_lng <= 10.40744 <= max_lng
    assert max_lat - min_lat < 1e-5
    assert max_lng - min_lng < 1e-5


def test_decode_bbox_is_case_insensitive() -> None:
    assert geo.decode_bbox("U14") == geo.decode_bbox("u14")


def test_decode_bbox_of_precision_three_cell_is_1_40625_degrees_square() -> None:
    min_lat, min_lng, max_lat, max_lng = geo.decode_bbox("u14")
    assert max_lat - min_lat == 1.40625
    assert max_lng - min_lng == 1.40625


@pytest.mark.parametrize("bad", ["", "u1a", "u1i", "u1l", "u1o", "u14 ", "0123456789bcd"])
def test_decode_bbox_rejects_invalid_geohash(bad: str) -> None:
    with pytest.raises(ValueError):
        geo.decode_bbox(bad)


@pytest.mark.parametrize(
    ("lat", "lng", "precision"),
    [(91.0, 0.0, 9), (-90.5, 0.0, 9), (0.0, 180.5, 9), (math.nan, 0.0, 9), (0.0, 0.0, 0), (0.0, 0.0, 13)],
)
def test_encode_rejects_invalid_input(lat: float, lng: float, precision: int) -> None:
    with pytest.raises(ValueError):
        geo.encode(lat, lng, precision)


@given(
    lat=st.floats(min_value=-90, max_value=90),
    lng=st.floats(min_value=-180, max_value=180),
    precision=st.integers(min_value=1, max_value=geo.MAX_PRECISION),
)
def test_encode_decode_round_trip(lat: float, lng: float, precision: int) -> None:
    geohash = geo.encode(lat, lng, precision)
    min_lat, min_lng, max_lat, max_lng = geo.decode_bbox(geohash)
    assert min_lat <= lat <= max_lat
    assert min_lng <= lng <= max_lng
    # Re-encoding the cell's centre yields the same cell, and a prefix is the coarser cell.
    assert geo.encode((min_lat + max_lat) / 2, (min_lng + max_lng) / 2, precision) == geohash
    assert geo.encode(lat, lng, geo.MAX_PRECISION).startswith(geohash)


# --- distance / bounding box -------------------------------------------------------------------------


def test_distance_brussels_ghent_is_about_50_km() -> None:
    assert geo.distance_km(*BRUSSELS_GRAND_PLACE, *GHENT_KORENMARKT) == pytest.approx(50.0, abs=1.5)


def test_distance_known_values() -> None:
    assert geo.distance_km(10.0, 20.0, 10.0, 20.0) == 0.0
    # One degree of latitude along a meridian is R * pi / 180.
    assert geo.distance_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(geo.EARTH_RADIUS_KM * math.pi / 180)
    assert geo.distance_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(geo.EARTH_RADIUS_KM * math.pi)
    assert geo.distance_km(90.0, 0.0, -90.0, 0.0) == pytest.approx(geo.EARTH_RADIUS_KM * math.pi)


def test_distance_is_symmetric() -> None:
    assert geo.distance_km(*GHENT_KORENMARKT, *BRUSSELS_GRAND_PLACE) == geo.distance_km(
        *BRUSSELS_GRAND_PLACE, *GHENT_KORENMARKT
    )


def test_bounding_box_contains_circle_extremes() -> None:
    lat, lng = GHENT_KORENMARKT
    min_lat, min_lng, max_lat, max_lng = geo.bounding_box(lat, lng, 10.0)
    for bearing in range(0, 360, 5):
        p_lat, p_lng = destination(lat, lng, bearing, 10.0)
        assert min_lat <= p_lat <= max_lat
        assert min_lng <= p_lng <= max_lng
    # ...and is not absurdly loose: 10 km is ~0.09 degrees of latitude.
    assert max_lat - min_lat == pytest.approx(2 * 10.0 / 111.195, rel=1e-3)


def test_bounding_box_over_a_pole_spans_all_longitudes() -> None:
    min_lat, min_lng, max_lat, max_lng = geo.bounding_box(89.9, 10.0, 50.0)
    assert (min_lng, max_lng, max_lat) == (-180.0, 180.0, 90.0)
    assert min_lat == pytest.approx(89.9 - 50.0 / 111.195, rel=1e-6)
    min_lat, min_lng, max_lat, max_lng = geo.bounding_box(-89.95, 0.0, 20.0)
    assert (min_lat, min_lng, max_lng) == (-90.0, -180.0, 180.0)


def test_bounding_box_clamps_at_antimeridian() -> None:
    _, min_lng, _, max_lng = geo.bounding_box(0.0, 179.9, 50.0)
    assert max_lng == 180.0
    assert min_lng < 179.9


def test_bounding_box_zero_radius_is_the_point() -> None:
    min_lat, min_lng, max_lat, max_lng = geo.bounding_box(*GHENT_KORENMARKT, 0.0)
    assert min_lat == pytest.approx(GHENT_KORENMARKT[0]) == pytest.approx(max_lat)
    assert min_lng == pytest.approx(GHENT_KORENMARKT[1]) == pytest.approx(max_lng)


@pytest.mark.parametrize("radius", [-1.0, math.nan, math.inf])
def test_bounding_box_rejects_bad_radius(radius: float) -> None:
    with pytest.raises(ValueError):
        geo.bounding_box(0.0, 0.0, radius)


# --- cell_ranges ------------------------------------------------------------------------------------


def test_cell_ranges_small_circle_is_one_tight_range() -> None:
    ranges = geo.cell_ranges(*GHENT_KORENMARKT, 2.0)
    assert len(ranges) == 1
    (only,) = ranges
    assert only.cell == "u14"
    assert only.low.startswith("u14d")
    assert only.high.startswith("u14d")
    assert only.high.endswith("~")
    assert covered(ranges, *GHENT_KORENMARKT)
    assert not covered(ranges, *BRUSSELS_GRAND_PLACE)


def test_cell_ranges_near_a_cell_boundary_returns_several_cells() -> None:
    # 50.625 = -90 + 100 * 1.40625 is a precision-3 latitude edge (between u0f and u14).
    ranges = geo.cell_ranges(50.625, 4.0, 5.0)
    cells = [r.cell for r in ranges]
    assert len(cells) >= 2
    assert cells == sorted(set(cells))
    assert set(cells) == {"u0f", "u14"}
    assert covered(ranges, 50.62, 4.0)
    assert covered(ranges, 50.63, 4.0)


def test_cell_ranges_near_a_cell_corner_returns_four_cells() -> None:
    # (50.625, 4.21875) is a corner shared by four precision-3 cells.
    ranges = geo.cell_ranges(50.625, 4.21875, 3.0)
    assert len(ranges) == 4
    for d_lat in (-0.01, 0.01):
        for d_lng in (-0.01, 0.01):
            assert covered(ranges, 50.625 + d_lat, 4.21875 + d_lng)


def test_cell_ranges_ranges_lie_inside_their_cell() -> None:
    for cell_range in geo.cell_ranges(50.625, 4.21875, 50.0):
        assert cell_range.low.startswith(cell_range.cell)
        assert cell_range.high.startswith(cell_range.cell)
        assert cell_range.low < cell_range.high


@pytest.mark.parametrize("range_precision", [3, 4, 5, 6])
def test_cell_ranges_corners_match_brute_force_enumeration(range_precision: int) -> None:
    """The corner shortcut must equal min/max over every sub-cell intersecting the box."""
    lat, lng, radius = 50.7, 4.1, 12.0
    min_lat, min_lng, max_lat, max_lng = geo.bounding_box(lat, lng, radius)
    sub_min_lat, sub_min_lng, sub_max_lat, sub_max_lng = geo.decode_bbox(
        geo.encode(lat, lng, range_precision)
    )
    # Sampling at a quarter of a sub-cell (plus the box edges) hits every sub-cell the box touches.
    step_lat, step_lng = (sub_max_lat - sub_min_lat) / 4, (sub_max_lng - sub_min_lng) / 4
    by_cell: dict[str, set[str]] = {}
    n_lat = math.ceil((max_lat - min_lat) / step_lat) + 1
    n_lng = math.ceil((max_lng - min_lng) / step_lng) + 1
    for i in range(n_lat):
        p_lat = min(max_lat, min_lat + i * step_lat)
        for j in range(n_lng):
            p_lng = min(max_lng, min_lng + j * step_lng)
            sub = geo.encode(p_lat, p_lng, range_precision)
            by_cell.setdefault(sub[: geo.CELL_PRECISION], set()).add(sub)
    expected = [geo.CellRange(cell, min(subs), max(subs) + "~") for cell, subs in sorted(by_cell.items())]
    assert geo.cell_ranges(lat, lng, radius, range_precision=range_precision) == expected


def test_cell_ranges_is_deterministic_and_sorted() -> None:
    first = geo.cell_ranges(60.1, 24.9, 50.0)
    assert first == geo.cell_ranges(60.1, 24.9, 50.0)
    assert [r.cell for r in first] == sorted({r.cell for r in first})


def test_cell_ranges_high_sorts_after_longer_keys_with_the_max_prefix() -> None:
    (only,) = geo.cell_ranges(*GHENT_KORENMARKT, 0.5)
    prefix = only.high[:-1]
    for suffix in ("zzzz#zzzz", "0000#", "#shop-1", "zzzzzzzzzzzz"):
        assert only.low <= prefix + suffix <= only.high


def test_cell_ranges_over_a_pole_covers_the_far_side() -> None:
    ranges = geo.cell_ranges(89.9, 0.0, 50.0)
    assert covered(ranges, 89.8, 179.0)
    assert covered(ranges, 89.8, -179.0)
    assert covered(ranges, 90.0, 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"radius_km": -1.0},
        {"radius_km": 50.1},
        {"radius_km": math.nan},
        {"cell_precision": 0},
        {"range_precision": 2},
        {"range_precision": 10},
        {"cell_precision": 6, "range_precision": 5},
    ],
)
def test_cell_ranges_rejects_invalid_parameters(kwargs: dict[str, float]) -> None:
    arguments: dict[str, float] = {"lat": 50.0, "lng": 4.0, "radius_km": 10.0, **kwargs}
    with pytest.raises(ValueError):
        geo.cell_ranges(**arguments)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    centre_lat=st.floats(min_value=35.0, max_value=70.0),
    centre_lng=st.floats(min_value=-10.0, max_value=30.0),
    radius=st.floats(min_value=0.1, max_value=50.0),
    samples=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=360.0), st.floats(min_value=0.0, max_value=1.0)),
        min_size=1,
        max_size=20,
    ),
)
def test_every_point_in_the_circle_is_in_a_returned_range(
    centre_lat: float, centre_lng: float, radius: float, samples: list[tuple[float, float]]
) -> None:
    ranges = geo.cell_ranges(centre_lat, centre_lng, radius)
    # A 50 km box is < 1 cell tall and, up to 70 degrees latitude, < 2 cells wide.
    assert len(ranges) <= 6
    for bearing, fraction in samples:
        lat, lng = destination(centre_lat, centre_lng, bearing, radius * fraction)
        assume(geo.distance_km(centre_lat, centre_lng, lat, lng) <= radius)
        assert covered(ranges, lat, lng), (lat, lng)


@settings(max_examples=100, deadline=None)
@given(
    centre_lat=st.floats(min_value=-90.0, max_value=90.0),
    centre_lng=st.floats(min_value=-170.0, max_value=170.0),
    radius=st.floats(min_value=0.0, max_value=50.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    range_precision=st.integers(min_value=3, max_value=9),
)
def test_every_point_in_the_circle_is_covered_worldwide(
    centre_lat: float, centre_lng: float, radius: float, bearing: float, fraction: float, range_precision: int
) -> None:
    lat, lng = destination(centre_lat, centre_lng, bearing, radius * fraction)
    assume(geo.distance_km(centre_lat, centre_lng, lat, lng) <= radius)
    # Points across the antimeridian are documented as not found.
    assume(abs(lng - centre_lng) < 180.0)
    ranges = geo.cell_ranges(centre_lat, centre_lng, radius, range_precision=range_precision)
    assert covered(ranges, lat, lng), (lat, lng)


def test_cell_count_stays_small() -> None:
    # Below ~50 degrees a 50 km box is narrower than one precision-3 cell: at most 2 x 2 cells.
    assert (
        max(
            len(geo.cell_ranges(lat / 10, lng / 10, 50.0))
            for lat in range(-490, 491, 70)
            for lng in range(-1700, 1701, 70)
        )
        <= 4
    )
    assert len(geo.cell_ranges(69.9, 1.0, 50.0)) <= 6
