"""Ledger items: one movement of what the mall owes a shop, and the commission rates."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import MallItem

# gsi1 of the entries not yet paid out: LEDGER#<shop>#UNSETTLED / <available_at>#<sk>. A payout takes the
# entries out of it in its claiming transaction, so "what is there to pay" is one Query by key.
UNSETTLED = "LEDGER#{shop}#UNSETTLED"
# gsi2 of the commission movements, one partition per UTC day, for the operator's monthly report.
COMMISSIONS = "COMMISSIONS#{day}"


class LedgerEntryItem(MallItem, discriminator="ledger_entry"):
    """pk = LEDGER#<shop id>, sk = <at, µs>#<entry type>#<source id>: one movement of what the mall owes a
    shop. Positive: the shop earns it (sale, commission returned, refund reversed, clawback recovered);
    negative: it is taken off (commission, refund, lost dispute).

    Append-only: put with attribute_not_exists in the transaction of the change that causes it; the only
    later write is the payout claiming it (``payout_id`` set, gsi1 removed), conditional on it still being
    unsettled. The sum of a shop's entries is what the mall owes it over all time; the unsettled ones are
    its balance.

    gsi1: LEDGER#<shop>#UNSETTLED / <available_at>#<sk>    until a payout claims it
    gsi2: COMMISSIONS#<yyyy-mm-dd> / <at>#<shop>#<sk>      commission movements only
    """

    shop_id = UnicodeAttribute()
    # sale, commission, refund, commission_return, refund_reversal, dispute, clawback
    entry_type = UnicodeAttribute()
    amount_cents = NumberAttribute()
    order_id = UnicodeAttribute(null=True)
    # What caused it: the order (sale, commission at hand-over), a refund, a dispute, a payout's reversal.
    source_id = UnicodeAttribute()
    at = UnicodeAttribute()
    # Earnings wait out the mall's hold (late refunds, disputes); debits count at once.
    available_at = UnicodeAttribute()
    # Statement lines: [{"name", "quantity", "amount_cents"}] for sales and refunds.
    lines = JSONAttribute(null=True)
    rate_bps = NumberAttribute(null=True)  # commission entries: the rate fixed at checkout
    fixed_fee_cents = NumberAttribute(null=True)
    payout_id = UnicodeAttribute(null=True)  # set by the payout that claimed it

    # The refund's id for refund-type entries (kept for readers of the refund flow).
    @property
    def refund_id(self) -> str:
        return self.source_id


class CommissionRateItem(MallItem, discriminator="commission_rate"):
    """The mall's default (pk = CONFIG#commission, sk = DEFAULT) or one shop's override
    (pk = SHOP#<shop>, sk = COMMISSION). Read at checkout and copied onto each sub-order."""

    rate_bps = NumberAttribute()
    fixed_fee_cents = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()

    @staticmethod
    def default_key() -> tuple[str, str]:
        return "CONFIG#commission", "DEFAULT"

    @staticmethod
    def shop_key(shop_id: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", "COMMISSION"
