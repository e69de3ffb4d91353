"""Pure pricing of a cart: line totals, VAT per rate, delivery fees, per-shop and grand totals.

Shown prices include VAT (Belgium: 21 %, 12 %, 6 %), so VAT is *extracted* from each line's gross amount:
vat = gross * rate / (1 + rate), rounded half up to the cent, per line (each order line keeps its rate and
amount). Delivery is charged at the standard rate. All money is integer cents; no floats anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

STANDARD_VAT_BPS = 2100
MAX_QUANTITY = 99


class LineProblem(StrEnum):
    INACTIVE = "inactive"  # the product or variant was taken off sale
    OUT_OF_STOCK = "out_of_stock"
    INSUFFICIENT_STOCK = "insufficient_stock"  # some, but fewer than asked
    SHOP_UNAVAILABLE = "shop_unavailable"  # the shop was suspended


class Fulfilment(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


def vat_included(gross_cents: int, rate_bps: int) -> int:
    """The VAT contained in a VAT-inclusive amount, rounded half up."""
    if gross_cents < 0 or rate_bps < 0:
        raise ValueError("amounts and rates are not negative")
    denominator = 10_000 + rate_bps
    return (2 * gross_cents * rate_bps + denominator) // (2 * denominator)


@dataclass(frozen=True)
class CatalogLine:
    """What the catalogue says about a cart line right now (never what the client says)."""

    variant_id: str
    product_id: str
    shop_id: str
    name: str
    sku: str
    options: dict[str, str]
    unit_price_cents: int
    vat_rate_bps: int
    stock: int
    sellable: bool  # product and variant active, shop active
    shop_active: bool = True


@dataclass(frozen=True)
class PricedLine:
    catalog: CatalogLine
    quantity: int
    total_cents: int
    vat_cents: int
    problem: LineProblem | None


@dataclass(frozen=True)
class ShopTerms:
    """A shop's fulfilment offer, as its profile states it."""

    shop_id: str
    shop_name: str
    pickup: bool
    delivery: bool
    delivery_fee_cents: int
    free_delivery_over_cents: int | None


@dataclass(frozen=True)
class VatLine:
    rate_bps: int
    gross_cents: int
    vat_cents: int


@dataclass(frozen=True)
class PricedShop:
    terms: ShopTerms
    fulfilment: Fulfilment
    lines: list[PricedLine]
    subtotal_cents: int
    delivery_fee_cents: int
    total_cents: int
    vat: list[VatLine]


@dataclass(frozen=True)
class PricedCart:
    shops: list[PricedShop]
    subtotal_cents: int
    delivery_fees_cents: int
    total_cents: int
    vat: list[VatLine]
    problems: list[PricedLine] = field(default_factory=list)

    @property
    def lines(self) -> list[PricedLine]:
        return [line for shop in self.shops for line in shop.lines]


def price_line(catalog: CatalogLine, quantity: int) -> PricedLine:
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise ValueError(f"quantity must be 1..{MAX_QUANTITY}")
    problem: LineProblem | None = None
    if not catalog.shop_active:
        problem = LineProblem.SHOP_UNAVAILABLE
    elif not catalog.sellable:
        problem = LineProblem.INACTIVE
    elif catalog.stock <= 0:
        problem = LineProblem.OUT_OF_STOCK
    elif catalog.stock < quantity:
        problem = LineProblem.INSUFFICIENT_STOCK
    total = catalog.unit_price_cents * quantity
    return PricedLine(catalog, quantity, total, vat_included(total, catalog.vat_rate_bps), problem)


def delivery_fee(terms: ShopTerms, fulfilment: Fulfilment, subtotal_cents: int) -> int:
    if fulfilment is not Fulfilment.DELIVERY:
        return 0
    free_over = terms.free_delivery_over_cents
    if free_over is not None and subtotal_cents >= free_over:
        return 0
    return terms.delivery_fee_cents


def vat_breakdown(parts: Iterable[tuple[int, int, int]]) -> list[VatLine]:
    """Sums (rate, gross, vat) parts per rate, highest rate first."""
    sums: dict[int, tuple[int, int]] = {}
    for rate, gross, vat in parts:
        g, v = sums.get(rate, (0, 0))
        sums[rate] = (g + gross, v + vat)
    return [VatLine(rate, g, v) for rate, (g, v) in sorted(sums.items(), reverse=True)]


def price_shop(terms: ShopTerms, fulfilment: Fulfilment, lines: list[PricedLine]) -> PricedShop:
    # Lines with a problem are shown but not charged: they cannot be bought as they are.
    charged = [line for line in lines if line.problem is None]
    subtotal = sum(line.total_cents for line in charged)
    fee = delivery_fee(terms, fulfilment, subtotal) if charged else 0
    parts = [(line.catalog.vat_rate_bps, line.total_cents, line.vat_cents) for line in charged]
    if fee:
        parts.append((STANDARD_VAT_BPS, fee, vat_included(fee, STANDARD_VAT_BPS)))
    return PricedShop(terms, fulfilment, lines, subtotal, fee, subtotal + fee, vat_breakdown(parts))


def price_cart(shops: list[PricedShop]) -> PricedCart:
    parts = [(v.rate_bps, v.gross_cents, v.vat_cents) for shop in shops for v in shop.vat]
    return PricedCart(
        shops=shops,
        subtotal_cents=sum(s.subtotal_cents for s in shops),
        delivery_fees_cents=sum(s.delivery_fee_cents for s in shops),
        total_cents=sum(s.total_cents for s in shops),
        vat=vat_breakdown(parts),
        problems=[line for shop in shops for line in shop.lines if line.problem is not None],
    )
