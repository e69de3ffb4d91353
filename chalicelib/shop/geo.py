"""Geohash and great-circle distance: finding shops near a point by key, without reading the whole table.

Every active shop item carries ``geo_cell`` (its geohash at precision 3, a GSI partition key) and a sort key
that starts with its precision-9 geohash followed by ``#<shop_id>``. A near-me search therefore needs, for
each precision-3 cell the search circle touches, one lexicographic ``[low, high]`` sort-key range so the
caller can run ``Query(pk = cell, sk BETWEEN low AND high)`` and then filter candidates by exact distance.

Pure standard library on purpose: it is unit-tested exhaustively and imported on every cold start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_BASE32_VALUE = {char: value for value, char in enumerate(BASE32)}

EARTH_RADIUS_KM = 6371.0088
CELL_PRECISION = 3
SORT_KEY_PRECISION = 9
MAX_PRECISION = 12
MAX_RADIUS_KM = 50.0

# Sorts after every base32 character and after '#', so "<cell>~" bounds every longer key with that prefix.
RANGE_HIGH_SUFFIX = "~"

# ~1 cm of slack so floating-point rounding in the trigonometry never drops a point lying exactly on the
# circle's edge; a slightly larger box only costs a few extra candidates that the distance filter removes.
_BBOX_MARGIN_DEG = 1e-7


@dataclass(frozen=True)
class CellRange:
    """One DynamoDB query: partition ``cell``, sort key ``BETWEEN low AND high`` (both inclusive)."""

    cell: str
    low: str
    high: str


def _check_precision(precision: int, name: str = "precision") -> None:
    # bool is an int subclass; True would silently mean precision 1.
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"{name} must be an integer between 1 and {MAX_PRECISION}, got {precision!r}")


def _check_point(lat: float, lng: float) -> None:
    # The negated chained comparison also rejects NaN, which would otherwise encode to a bogus cell.
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude must be between -90 and 90, got {lat!r}")
    if not -180.0 <= lng <= 180.0:
        raise ValueError(f"longitude must be between -180 and 180, got {lng!r}")


def _bit_counts(precision: int) -> tuple[int, int]:
    """(latitude bits, longitude bits): geohash starts interleaving with longitude, so it gets the odd bit."""
    bits = 5 * precision
    return bits // 2, bits - bits // 2


def _index(value: float, low: float, high: float, bits: int) -> int:
    """Grid index of ``value`` by repeated bisection, exactly as the geohash algorithm does it.

    Every midpoint is a dyadic fraction of 180/360 and therefore exact in binary floating point, so this is
    monotonic in ``value`` and agrees bit-for-bit with :func:`encode`; grid enumeration in
    :func:`cell_ranges` relies on both properties.
    """
    index = 0
    for _ in range(bits):
        mid = (low + high) / 2
        if value >= mid:
            index = index * 2 + 1
            low = mid
        else:
            index = index * 2
            high = mid
    return index


def _geohash(lat_index: int, lng_index: int, precision: int) -> str:
    lat_bits, lng_bits = _bit_counts(precision)
    code = 0
    for position in range(5 * precision):
        if position % 2 == 0:
            bit = (lng_index >> (lng_bits - 1 - position // 2)) & 1
        else:
            bit = (lat_index >> (lat_bits - 1 - position // 2)) & 1
        code = (code << 1) | bit
    return "".join(BASE32[(code >> shift) & 31] for shift in range(5 * (precision - 1), -1, -5))


def encode(lat: float, lng: float, precision: int = 9) -> str:
    """Standard base32 geohash of a point. Points exactly on a cell edge belong to the north/east cell."""
    _check_precision(precision)
    _check_point(lat, lng)
    lat_bits, lng_bits = _bit_counts(precision)
    return _geohash(_index(lat, -90.0, 90.0, lat_bits), _index(lng, -180.0, 180.0, lng_bits), precision)


def decode_bbox(geohash: str) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) of a geohash cell; case-insensitive."""
    if not isinstance(geohash, str) or not 1 <= len(geohash) <= MAX_PRECISION:
        raise ValueError(f"geohash must be a string of 1 to {MAX_PRECISION} characters, got {geohash!r}")
    code = 0
    for char in geohash.lower():
        value = _BASE32_VALUE.get(char)
        if value is None:
            raise ValueError(f"invalid geohash character {char!r} in {geohash!r}")
        code = (code << 5) | value
    precision = len(geohash)
    lat_bits, lng_bits = _bit_counts(precision)
    lat_index = lng_index = 0
    for position in range(5 * precision):
        bit = (code >> (5 * precision - 1 - position)) & 1
        if position % 2 == 0:
            lng_index = (lng_index << 1) | bit
        else:
            lat_index = (lat_index << 1) | bit
    # Powers of two keep these sizes and products exact.
    lat_size = 180.0 / (1 << lat_bits)
    lng_size = 360.0 / (1 << lng_bits)
    min_lat = -90.0 + lat_index * lat_size
    min_lng = -180.0 + lng_index * lng_size
    return min_lat, min_lng, min_lat + lat_size, min_lng + lng_size


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance on a sphere of the mean Earth radius."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # Rounding can push `a` a hair above 1 for antipodal points, and asin would then raise.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) enclosing every point within ``radius_km`` of (lat, lng).

    The longitude half-width uses asin(sin(r) / cos(lat)), the true widest extent of a spherical circle,
    not r / cos(lat), which is too narrow away from the equator. When the circle reaches a pole, every
    longitude is inside it, so the box spans -180..180.

    The antimeridian is NOT handled: longitudes are clamped to [-180, 180], so a circle crossing the 180th
    meridian loses the part on the far side. Acceptable for a service whose shops are in Europe; a caller
    needing it would have to split the box in two.
    """
    _check_point(lat, lng)
    if not math.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius_km must be a finite number >= 0, got {radius_km!r}")
    angular = radius_km / EARTH_RADIUS_KM
    d_lat = math.degrees(angular) + _BBOX_MARGIN_DEG
    min_lat = lat - d_lat
    max_lat = lat + d_lat
    cos_lat = math.cos(math.radians(lat))
    reaches_pole = min_lat <= -90.0 or max_lat >= 90.0
    if reaches_pole or angular >= math.pi / 2 or math.sin(angular) >= cos_lat:
        min_lng, max_lng = -180.0, 180.0
    else:
        d_lng = math.degrees(math.asin(math.sin(angular) / cos_lat)) + _BBOX_MARGIN_DEG
        min_lng, max_lng = max(-180.0, lng - d_lng), min(180.0, lng + d_lng)
    return max(-90.0, min_lat), min_lng, min(90.0, max_lat), max_lng


def cell_ranges(
    lat: float,
    lng: float,
    radius_km: float,
    cell_precision: int = CELL_PRECISION,
    range_precision: int = 5,
) -> list[CellRange]:
    """The partition cells and sort-key ranges to query for shops within ``radius_km`` of (lat, lng).

    Returns one :class:`CellRange` per precision-``cell_precision`` cell that intersects the circle's
    bounding box, sorted by cell. Within a cell, ``low`` is the smallest and ``high`` the largest (plus
    ``"~"``) precision-``range_precision`` geohash covering the part of the box inside that cell; every
    stored sort key ``<geohash9>#<shop_id>`` of a point in the box lies in ``[low, high]``. The range is
    a superset (a Z-order curve wanders outside any rectangle), so callers must still filter candidates
    with :func:`distance_km`.

    Geohash order is Z-order, which is monotonic in each coordinate, so the min and max over a rectangle
    of sub-cells are its south-west and north-east corners: they are computed directly, never enumerated,
    and the cost does not depend on ``range_precision`` or the radius. That makes a "coarser precision
    fallback" for large circles unnecessary.

    Raises ValueError for an invalid point, a negative radius, one above MAX_RADIUS_KM (a bound that keeps
    the number of queries small: with 50 km, at most 4 cells below ~50 degrees latitude and 6 up to ~70
    degrees, but up to a few hundred within ~50 km of a pole, where the box spans every longitude), or
    precisions outside
    1 <= cell_precision <= range_precision <= SORT_KEY_PRECISION.
    """
    _check_precision(cell_precision, "cell_precision")
    _check_precision(range_precision, "range_precision")
    if not cell_precision <= range_precision <= SORT_KEY_PRECISION:
        # A range finer than the stored geohash would compare against characters the keys do not have.
        raise ValueError(
            f"need cell_precision <= range_precision <= {SORT_KEY_PRECISION}, "
            f"got {cell_precision} and {range_precision}"
        )
    if not radius_km <= MAX_RADIUS_KM:
        raise ValueError(f"radius_km must be at most {MAX_RADIUS_KM}, got {radius_km!r}")
    min_lat, min_lng, max_lat, max_lng = bounding_box(lat, lng, radius_km)

    cell_lat_bits, cell_lng_bits = _bit_counts(cell_precision)
    range_lat_bits, range_lng_bits = _bit_counts(range_precision)
    lat_lo = _index(min_lat, -90.0, 90.0, range_lat_bits)
    lat_hi = _index(max_lat, -90.0, 90.0, range_lat_bits)
    lng_lo = _index(min_lng, -180.0, 180.0, range_lng_bits)
    lng_hi = _index(max_lng, -180.0, 180.0, range_lng_bits)
    # A coarse cell's index is the fine index's leading bits, so shifting maps fine ranges onto cells.
    lat_shift = range_lat_bits - cell_lat_bits
    lng_shift = range_lng_bits - cell_lng_bits

    ranges: list[CellRange] = []
    for cell_lat in range(lat_lo >> lat_shift, (lat_hi >> lat_shift) + 1):
        sub_lat_lo = max(lat_lo, cell_lat << lat_shift)
        sub_lat_hi = min(lat_hi, ((cell_lat + 1) << lat_shift) - 1)
        for cell_lng in range(lng_lo >> lng_shift, (lng_hi >> lng_shift) + 1):
            sub_lng_lo = max(lng_lo, cell_lng << lng_shift)
            sub_lng_hi = min(lng_hi, ((cell_lng + 1) << lng_shift) - 1)
            ranges.append(
                CellRange(
                    cell=_geohash(cell_lat, cell_lng, cell_precision),
                    low=_geohash(sub_lat_lo, sub_lng_lo, range_precision),
                    high=_geohash(sub_lat_hi, sub_lng_hi, range_precision) + RANGE_HIGH_SUFFIX,
                )
            )
    ranges.sort(key=lambda cell_range: cell_range.cell)
    return ranges
