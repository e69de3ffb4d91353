"""Reading a shop's ledger by key: all of it, or what is not paid out yet."""

from __future__ import annotations

from chalicelib.ledger.models import UNSETTLED, LedgerEntryItem


def entries_of(shop_id: str) -> list[LedgerEntryItem]:
    """Every entry of the shop, oldest first (admin reads and tests; a payout never needs them all)."""
    return list(LedgerEntryItem.query(f"LEDGER#{shop_id}", consistent_read=True))


def unsettled(shop_id: str, available_by: str | None = None) -> list[LedgerEntryItem]:
    """The entries no payout has claimed yet, by when they become available; ``available_by`` (a µs stamp)
    keeps those available by then. The index is eventually consistent: an entry written a moment ago may
    be missing, and is then simply paid by the next payout."""
    condition = LedgerEntryItem.gsi1sk < f"{available_by}~" if available_by else None
    found = LedgerEntryItem.gsi1.query(UNSETTLED.format(shop=shop_id), condition)
    return [item for item in found if isinstance(item, LedgerEntryItem)]
