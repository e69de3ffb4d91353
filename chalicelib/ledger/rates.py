"""Commission rates: the mall's default and per-shop overrides, set by the operator, read at checkout
(one BatchGetItem for the cart's shops) and fixed on each sub-order there."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DeleteError

from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem
from chalicelib.ledger.commission import CommissionRate
from chalicelib.ledger.errors import CommissionOverrideNotFound
from chalicelib.ledger.models import CommissionRateItem
from chalicelib.ledger.schemas import Commission, CommissionIn

NO_COMMISSION = CommissionRate()


def rates_for(shop_ids: Iterable[str], consistent: bool = False) -> dict[str, CommissionRate]:
    """Each shop's rate: its override, else the mall's default, else none. One BatchGetItem."""
    shops = sorted(set(shop_ids))
    keys = [CommissionRateItem.default_key(), *(CommissionRateItem.shop_key(s) for s in shops)]
    found = {
        (item.pk, item.sk): _rate(item)
        for item in MallItem.batch_get(keys, consistent_read=consistent)
        if isinstance(item, CommissionRateItem)
    }
    default = found.get(CommissionRateItem.default_key(), NO_COMMISSION)
    return {shop: found.get(CommissionRateItem.shop_key(shop), default) for shop in shops}


def set_default(body: CommissionIn) -> Commission:
    item = _save(CommissionRateItem.default_key(), body)
    return _view(item, "default")


def get_default() -> Commission:
    item = _get(CommissionRateItem.default_key())
    return _view(item, "default") if item else Commission(0, 0, "default")


def set_for_shop(shop_id: str, body: CommissionIn) -> Commission:
    from chalicelib.shop.service import operator_get_shop

    operator_get_shop(shop_id)  # 404 for an unknown shop
    return _view(_save(CommissionRateItem.shop_key(shop_id), body), "shop")


def get_for_shop(shop_id: str) -> Commission:
    from chalicelib.shop.service import operator_get_shop

    operator_get_shop(shop_id)
    item = _get(CommissionRateItem.shop_key(shop_id))
    return _view(item, "shop") if item else get_default()


def remove_for_shop(shop_id: str) -> Commission:
    try:
        CommissionRateItem(*CommissionRateItem.shop_key(shop_id)).delete(
            condition=CommissionRateItem.pk.exists()
        )
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise CommissionOverrideNotFound(shop_id) from None
        raise
    return get_default()


def _save(key: tuple[str, str], body: CommissionIn) -> CommissionRateItem:
    item = CommissionRateItem(
        *key, rate_bps=body.rate_bps, fixed_fee_cents=body.fixed_fee_cents, updated_at=iso(now())
    )
    item.save()
    return item


def _get(key: tuple[str, str]) -> CommissionRateItem | None:
    try:
        return CommissionRateItem.get(*key, consistent_read=True)
    except CommissionRateItem.DoesNotExist:
        return None


def _rate(item: CommissionRateItem) -> CommissionRate:
    return CommissionRate(int(item.rate_bps), int(item.fixed_fee_cents or 0))


def _view(item: CommissionRateItem, source: str) -> Commission:
    return Commission(int(item.rate_bps), int(item.fixed_fee_cents or 0), source, item.updated_at)
