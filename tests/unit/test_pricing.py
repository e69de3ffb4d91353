"""Pure pricing: VAT extracted from VAT-inclusive prices per line (half up), delivery fees, what is charged,
and totals that add up. The expected VAT is computed independently with exact fractions."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.checkout.pricing import (
    MAX_QUANTITY,
    STANDARD_VAT_BPS,
    CatalogLine,
    Fulfilment,
    LineProblem,
    ShopTerms,
    VatLine,
    delivery_fee,
    price_cart,
    price_line,
    price_shop,
    vat_breakdown,
    vat_included,
)

BELGIAN_RATES = (0, 600, 1200, 2100)
HALF = Fraction(1, 2)


def exact_vat(gross: int, rate_bps: int) -> Fraction:
    return Fraction(gross * rate_bps, 10_000 + rate_bps)


def half_up(value: Fraction) -> int:
    """Round half up, written differently from the code under test (floor of the fraction + 1/2)."""
    whole, rest = divmod(value.numerator, value.denominator)
    return whole + (1 if Fraction(rest, value.denominator) >= HALF else 0)


def catalog(
    variant: str = "p1-aaaaaa",
    shop: str = "shop_a",
    price: int = 450,
    rate: int = 600,
    stock: int = 10,
    sellable: bool = True,
    shop_active: bool = True,
) -> CatalogLine:
    return CatalogLine(
        variant_id=variant,
        product_id=variant.rpartition("-")[0],
        shop_id=shop,
        name=f"Product {variant}",
        sku=variant.upper(),
        options={},
        unit_price_cents=price,
        vat_rate_bps=rate,
        stock=stock,
        sellable=sellable,
        shop_active=shop_active,
    )


def terms(
    shop: str = "shop_a",
    pickup: bool = True,
    delivery: bool = True,
    fee: int = 495,
    free_over: int | None = 5000,
) -> ShopTerms:
    return ShopTerms(shop, f"Shop {shop}", pickup, delivery, fee, free_over)


# --- vat_included -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [
        (121, 2100, 21),  # exactly 100 + 21
        (106, 600, 6),  # exactly 100 + 6
        (112, 1200, 12),
        (12100, 2100, 2100),
        (1, 2100, 0),  # 0.17 cent
        (1, 600, 0),  # 0.06 cent
        (3, 2100, 1),  # 0.52 cent: just above half
        (2, 2100, 0),  # 0.35 cent
        (17, 2100, 3),  # 2.95 cents
        (999, 2100, 173),  # 173.38
        (495, 2100, 86),  # a delivery fee: 85.91
        (0, 2100, 0),
        (500, 0, 0),  # zero-rated
    ],
)
def test_vat_is_extracted_from_an_inclusive_amount_and_rounded_per_line(gross, rate, vat):
    assert vat_included(gross, rate) == vat
    assert abs(vat - exact_vat(gross, rate)) <= HALF


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [
        # Exact halves cannot happen at 21 % or 6 % (121 and 53 are odd), but they do at 12 % and 100 %.
        (14, 1200, 2),  # 1.5 -> 2
        (42, 1200, 5),  # 4.5 -> 5
        (70, 1200, 8),  # 7.5 -> 8
        (1, 10_000, 1),  # 0.5 -> 1
        (3, 10_000, 2),  # 1.5 -> 2
    ],
)
def test_exact_halves_round_up(gross, rate, vat):
    assert exact_vat(gross, rate) == vat - HALF
    assert vat_included(gross, rate) == vat


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [(13, 1200, 1), (15, 1200, 2), (41, 1200, 4), (43, 1200, 5)],  # 1.39, 1.61, 4.39, 4.61
)
def test_neighbours_of_a_half_round_to_the_nearest_cent(gross, rate, vat):
    assert abs(exact_vat(gross, rate) - vat) < HALF
    assert vat_included(gross, rate) == vat


@pytest.mark.parametrize(("gross", "rate"), [(-1, 2100), (100, -1)])
def test_negative_amounts_or_rates_are_refused(gross, rate):
    with pytest.raises(ValueError):
        vat_included(gross, rate)


@settings(max_examples=400, deadline=None)
@given(
    gross=st.integers(min_value=0, max_value=100_000_000),
    rate=st.one_of(st.sampled_from(BELGIAN_RATES), st.integers(min_value=0, max_value=10_000)),
)
def test_vat_matches_exact_fraction_rounded_half_up(gross, rate):
    vat = vat_included(gross, rate)
    exact = exact_vat(gross, rate)

    assert isinstance(vat, int)
    assert abs(vat - exact) <= HALF
    assert vat == half_up(exact)
    if exact - int(exact) == HALF:
        assert vat == int(exact) + 1  # a tie goes up, never to even
    assert 0 <= vat <= gross
    assert vat_included(gross, rate) == vat  # deterministic


@settings(max_examples=200, deadline=None)
@given(
    gross=st.integers(min_value=0, max_value=10_000_000),
    extra=st.integers(min_value=0, max_value=10_000),
    rate=st.sampled_from(BELGIAN_RATES),
)
def test_vat_never_decreases_when_the_gross_amount_grows(gross, extra, rate):
    assert vat_included(gross, rate) <= vat_included(gross + extra, rate)


# --- lines --------------------------------------------------------------------------------------------


def test_a_line_is_priced_from_the_catalogue_price_times_quantity():
    line = price_line(catalog(price=450, rate=600), 3)

    assert line.total_cents == 1350
    assert line.vat_cents == vat_included(1350, 600) == 76  # 76.42, rounded on the line total
    assert line.problem is None


def test_line_vat_is_rounded_on_the_line_total_not_per_unit():
    # 3 x 0.52 cent = 1.57: per unit it would round to 3 x 1 = 3 cents.
    assert price_line(catalog(price=3, rate=2100), 3).vat_cents == 2


@pytest.mark.parametrize(
    ("kwargs", "quantity", "problem"),
    [
        ({"sellable": False}, 1, LineProblem.INACTIVE),
        ({"stock": 0}, 1, LineProblem.OUT_OF_STOCK),
        ({"stock": -2}, 1, LineProblem.OUT_OF_STOCK),
        ({"stock": 2}, 3, LineProblem.INSUFFICIENT_STOCK),
        ({"stock": 3}, 3, None),
        ({"shop_active": False, "sellable": False}, 1, LineProblem.SHOP_UNAVAILABLE),
        ({"sellable": False, "stock": 0}, 1, LineProblem.INACTIVE),  # inactive wins over stock
    ],
)
def test_line_problems(kwargs, quantity, problem):
    assert price_line(catalog(**kwargs), quantity).problem == problem


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 100])
def test_quantities_outside_1_to_99_are_refused(quantity):
    with pytest.raises(ValueError):
        price_line(catalog(), quantity)


def test_99_is_the_largest_quantity():
    assert price_line(catalog(price=100, stock=500), MAX_QUANTITY).total_cents == 9900


# --- delivery fee -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fulfilment", "subtotal", "free_over", "fee"),
    [
        (Fulfilment.PICKUP, 1000, 5000, 0),
        (Fulfilment.DELIVERY, 1000, 5000, 495),
        (Fulfilment.DELIVERY, 4999, 5000, 495),
        (Fulfilment.DELIVERY, 5000, 5000, 0),  # free from the threshold itself
        (Fulfilment.DELIVERY, 5001, 5000, 0),
        (Fulfilment.DELIVERY, 1_000_000, None, 495),  # no threshold: always charged
    ],
)
def test_delivery_fee_and_free_delivery_threshold(fulfilment, subtotal, free_over, fee):
    assert delivery_fee(terms(fee=495, free_over=free_over), fulfilment, subtotal) == fee


def test_delivery_fee_is_charged_with_standard_vat():
    shop = price_shop(
        terms(fee=495, free_over=None), Fulfilment.DELIVERY, [price_line(catalog(price=1000), 1)]
    )

    assert shop.subtotal_cents == 1000
    assert shop.delivery_fee_cents == 495
    assert shop.total_cents == 1495
    assert shop.vat == [
        VatLine(STANDARD_VAT_BPS, 495, vat_included(495, STANDARD_VAT_BPS)),
        VatLine(600, 1000, vat_included(1000, 600)),
    ]


# --- what is charged ----------------------------------------------------------------------------------


def test_lines_with_problems_are_shown_but_not_charged():
    good = price_line(catalog("p1-aaaaaa", price=1000, rate=600), 2)
    inactive = price_line(catalog("p2-bbbbbb", price=700, rate=2100, sellable=False), 1)
    short = price_line(catalog("p3-cccccc", price=300, rate=600, stock=1), 2)

    shop = price_shop(terms(fee=495, free_over=2500), Fulfilment.DELIVERY, [good, inactive, short])

    assert shop.lines == [good, inactive, short]
    assert shop.subtotal_cents == 2000
    # The free-delivery threshold is judged on what is charged (2000), not on every line (3300).
    assert shop.delivery_fee_cents == 495
    assert shop.total_cents == 2495
    assert {v.rate_bps for v in shop.vat} == {2100, 600}
    assert sum(v.gross_cents for v in shop.vat) == 2495

    cart = price_cart([shop])
    assert cart.problems == [inactive, short]
    assert cart.total_cents == 2495


def test_a_shop_whose_lines_all_have_problems_charges_nothing_not_even_delivery():
    line = price_line(catalog(stock=0), 1)

    shop = price_shop(terms(fee=495, free_over=None), Fulfilment.DELIVERY, [line])

    assert (shop.subtotal_cents, shop.delivery_fee_cents, shop.total_cents, shop.vat) == (0, 0, 0, [])


# --- VAT breakdown ------------------------------------------------------------------------------------


def test_vat_breakdown_sums_per_rate_highest_rate_first():
    parts = [(600, 450, 25), (2100, 1210, 210), (600, 760, 43), (0, 300, 0), (1200, 112, 12), (2100, 5, 1)]

    assert vat_breakdown(parts) == [
        VatLine(2100, 1215, 211),
        VatLine(1200, 112, 12),
        VatLine(600, 1210, 68),
        VatLine(0, 300, 0),
    ]
    assert vat_breakdown([]) == []


def test_vat_of_a_rate_is_the_sum_of_the_rounded_lines_not_the_rounded_sum():
    # Three lines of 0.52 cent each: 1 + 1 + 1 = 3, whereas VAT of the summed 9 cents would be 2.
    lines = [price_line(catalog(f"p{i}-aaaaaa", price=3, rate=2100), 1) for i in range(3)]

    shop = price_shop(terms(), Fulfilment.PICKUP, lines)

    assert shop.vat == [VatLine(2100, 9, 3)]
    assert vat_included(9, 2100) == 2


# --- totals add up ------------------------------------------------------------------------------------

_line = st.tuples(
    st.integers(min_value=1, max_value=50_000),  # unit price
    st.sampled_from(BELGIAN_RATES),
    st.integers(min_value=1, max_value=MAX_QUANTITY),
    st.integers(min_value=-1, max_value=120),  # stock
    st.booleans(),  # sellable
)
_shop = st.tuples(
    st.lists(_line, min_size=1, max_size=6),
    st.sampled_from([Fulfilment.PICKUP, Fulfilment.DELIVERY]),
    st.integers(min_value=0, max_value=2000),  # fee
    st.one_of(st.none(), st.integers(min_value=0, max_value=200_000)),  # free over
)


@settings(max_examples=200, deadline=None)
@given(shops=st.lists(_shop, min_size=1, max_size=5))
def test_shop_totals_and_vat_lines_add_up_to_the_cart_total(shops):
    priced = []
    for s, (lines, fulfilment, fee, free_over) in enumerate(shops):
        shop_id = f"shop_{s}"
        priced_lines = [
            price_line(catalog(f"p{s}x{i}-aaaaaa", shop_id, price, rate, stock, sellable), quantity)
            for i, (price, rate, quantity, stock, sellable) in enumerate(lines)
        ]
        priced.append(price_shop(terms(shop_id, fee=fee, free_over=free_over), fulfilment, priced_lines))

    cart = price_cart(priced)

    assert cart.total_cents == sum(shop.total_cents for shop in cart.shops)
    assert cart.subtotal_cents == sum(shop.subtotal_cents for shop in cart.shops)
    assert cart.delivery_fees_cents == sum(shop.delivery_fee_cents for shop in cart.shops)
    assert cart.total_cents == cart.subtotal_cents + cart.delivery_fees_cents
    assert sum(v.gross_cents for v in cart.vat) == cart.total_cents
    assert [v.rate_bps for v in cart.vat] == sorted({v.rate_bps for v in cart.vat}, reverse=True)
    for shop in cart.shops:
        charged = [line for line in shop.lines if line.problem is None]
        assert shop.subtotal_cents == sum(line.catalog.unit_price_cents * line.quantity for line in charged)
        assert shop.total_cents == shop.subtotal_cents + shop.delivery_fee_cents
        assert sum(v.gross_cents for v in shop.vat) == shop.total_cents
        assert sum(v.vat_cents for v in shop.vat) == sum(line.vat_cents for line in charged) + vat_included(
            shop.delivery_fee_cents, STANDARD_VAT_BPS
        )
        if not charged:
            assert shop.delivery_fee_cents == 0
    for rate_line in cart.vat:
        same_rate = [v for shop in cart.shops for v in shop.vat if v.rate_bps == rate_line.rate_bps]
        assert rate_line.gross_cents == sum(v.gross_cents for v in same_rate)
        assert rate_line.vat_cents == sum(v.vat_cents for v in same_rate)
    assert {id(p) for p in cart.problems} == {
        id(line) for shop in cart.shops for line in shop.lines if line.problem is not None
    }
