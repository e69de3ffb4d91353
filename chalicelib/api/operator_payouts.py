"""Operator API for money: commission rates, payouts by status, pay now, pausing a shop's payouts,
refunds to see through, and the mall's monthly commission report."""

from __future__ import annotations

from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.core.document import Document
from chalicelib.ledger.schemas import Commission, CommissionIn
from chalicelib.order.schemas import OperatorRefundQuery, Refund, RefundPage
from chalicelib.payout.schemas import (
    Balance,
    CommissionReport,
    OperatorPayoutQuery,
    PayNow,
    PayoutPage,
    ReportQuery,
    ScheduleOut,
    ShopPayoutRun,
    Statement,
)

TAG = "Operator payouts"
KEY = Role.OPERATOR


@endpoint(
    "GET",
    "/operator/commission",
    summary="The mall's default commission",
    tag=TAG,
    auth=KEY,
    response=Commission,
)
def get_commission(principal: Principal) -> Commission:
    from chalicelib.ledger.rates import get_default

    return get_default()


@endpoint(
    "PUT",
    "/operator/commission",
    summary="Set the mall's default commission (0-50 % of goods incl. VAT, plus a fixed fee per sub-order)",
    tag=TAG,
    auth=KEY,
    body=CommissionIn,
    response=Commission,
)
def set_commission(principal: Principal, body: CommissionIn) -> Commission:
    from chalicelib.ledger.rates import set_default

    return set_default(body)


@endpoint(
    "GET",
    "/operator/shops/{shop_id}/commission",
    summary="The commission a shop's new orders get (its override, else the default)",
    tag=TAG,
    auth=KEY,
    response=Commission,
)
def get_shop_commission(principal: Principal, shop_id: str) -> Commission:
    from chalicelib.ledger.rates import get_for_shop

    return get_for_shop(shop_id)


@endpoint(
    "PUT",
    "/operator/shops/{shop_id}/commission",
    summary="Override the commission for one shop (its past orders keep theirs)",
    tag=TAG,
    auth=KEY,
    body=CommissionIn,
    response=Commission,
)
def set_shop_commission(principal: Principal, shop_id: str, body: CommissionIn) -> Commission:
    from chalicelib.ledger.rates import set_for_shop

    return set_for_shop(shop_id, body)


@endpoint(
    "DELETE",
    "/operator/shops/{shop_id}/commission",
    summary="Remove a shop's override: its new orders get the default again",
    tag=TAG,
    auth=KEY,
    response=Commission,
)
def remove_shop_commission(principal: Principal, shop_id: str) -> Commission:
    from chalicelib.ledger.rates import remove_for_shop

    return remove_for_shop(shop_id)


@endpoint(
    "GET",
    "/operator/payouts",
    summary="Payouts by status, newest first (failed by default: the ones to look at)",
    tag=TAG,
    auth=KEY,
    query=OperatorPayoutQuery,
    response=PayoutPage,
)
def list_payouts(principal: Principal, query: OperatorPayoutQuery) -> PayoutPage:
    from chalicelib.payout.statements import operator_payouts

    return operator_payouts(query)


@endpoint(
    "GET",
    "/operator/payouts/{payout_id}",
    summary="One payout's statement",
    tag=TAG,
    auth=KEY,
    response=Statement,
)
def get_payout(principal: Principal, payout_id: str) -> Statement:
    from chalicelib.payout.statements import own_payout, statement

    return statement(own_payout(None, payout_id))


@endpoint(
    "POST",
    "/operator/payouts/{payout_id}/retry",
    summary="Ask Stripe again for a payout still moving money (the same idempotency keys)",
    tag=TAG,
    auth=KEY,
    response=ShopPayoutRun,
    errors=(409, 502),
)
def retry_payout(principal: Principal, payout_id: str) -> ShopPayoutRun:
    from chalicelib.payout.statements import payout_view
    from chalicelib.payout.worker import retry

    run = retry(payout_id)
    return ShopPayoutRun(run.shop_id, run.outcome, [payout_view(p) for p in run.payouts])


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/payouts",
    summary="Pay a shop its available balance now",
    tag=TAG,
    auth=KEY,
    response=PayNow,
    status=201,
    errors=(409, 422, 502),
)
def pay_shop_now(principal: Principal, shop_id: str) -> PayNow:
    from chalicelib.payout.statements import payout_view
    from chalicelib.payout.worker import pay_now
    from chalicelib.shop.service import operator_get_shop

    operator_get_shop(shop_id)
    return PayNow([payout_view(p) for p in pay_now(shop_id, "operator").payouts])


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/payouts/pause",
    summary="Hold a shop's payouts (it keeps earning)",
    tag=TAG,
    auth=KEY,
    response=ScheduleOut,
)
def pause_payouts(principal: Principal, shop_id: str) -> ScheduleOut:
    from chalicelib.payout.accounts import set_paused

    return set_paused(shop_id, True)


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/payouts/resume",
    summary="Let a shop's payouts go again: due at the next sweep",
    tag=TAG,
    auth=KEY,
    response=ScheduleOut,
)
def resume_payouts(principal: Principal, shop_id: str) -> ScheduleOut:
    from chalicelib.payout.accounts import set_paused

    return set_paused(shop_id, False)


@endpoint(
    "GET",
    "/operator/shops/{shop_id}/balance",
    summary="A shop's balance, as its retailer sees it",
    tag=TAG,
    auth=KEY,
    response=Balance,
)
def shop_balance(principal: Principal, shop_id: str) -> Balance:
    from chalicelib.payout.balance import shop_balance
    from chalicelib.shop.service import operator_get_shop

    operator_get_shop(shop_id)
    return shop_balance(shop_id)


@endpoint(
    "GET",
    "/operator/commission/report",
    summary="The mall's commission for a month: earned, returned with refunds, Stripe fees where known",
    tag=TAG,
    auth=KEY,
    query=ReportQuery,
    response=CommissionReport,
)
def commission_report(principal: Principal, query: ReportQuery) -> CommissionReport:
    from chalicelib.payout.report import commission_report

    return commission_report(query.month)


@endpoint(
    "GET",
    "/operator/commission/report.csv",
    summary="The same report as CSV (amounts in euros)",
    tag=TAG,
    auth=KEY,
    query=ReportQuery,
    media_type="text/csv",
)
def commission_report_csv(principal: Principal, query: ReportQuery) -> Document:
    from chalicelib.payout.report import commission_report_csv

    return commission_report_csv(query.month)


@endpoint(
    "GET",
    "/operator/refunds",
    summary="Refunds still pending or failed, mall-wide (a failed refund of a cancelled order is retried)",
    tag=TAG,
    auth=KEY,
    query=OperatorRefundQuery,
    response=RefundPage,
)
def list_refunds(principal: Principal, query: OperatorRefundQuery) -> RefundPage:
    from chalicelib.order.refund_views import operator_refunds

    return operator_refunds(query)


@endpoint(
    "POST",
    "/operator/orders/{order_id}/refunds/{refund_id}/retry",
    summary="Ask the payment provider again for a pending or failed refund",
    tag=TAG,
    auth=KEY,
    response=Refund,
    errors=(409,),
)
def retry_refund(principal: Principal, order_id: str, refund_id: str) -> Refund:
    from chalicelib.order.refund_views import refund_view
    from chalicelib.order.refunds import retry

    return refund_view(retry(order_id, None, refund_id))
