"""Commission rates on the wire."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from chalicelib.ledger.commission import MAX_FIXED_FEE_CENTS, MAX_RATE_BPS

RateBps = Annotated[
    int,
    Meta(ge=0, le=MAX_RATE_BPS, description="Commission in basis points of the goods incl. VAT: 800 = 8 %"),
]
FixedFee = Annotated[
    int, Meta(ge=0, le=MAX_FIXED_FEE_CENTS, description="A fixed fee per sub-order, in euro cents")
]


class CommissionIn(Struct, forbid_unknown_fields=True):
    rate_bps: RateBps
    fixed_fee_cents: FixedFee = 0


class Commission(Struct):
    rate_bps: int
    fixed_fee_cents: int
    # "default" (the mall's) or "shop" (an override for this shop)
    source: str
    updated_at: str | None = None
