"""Retailer API: the shop gets paid. Its Stripe account and onboarding, its payout schedule, its balance,
its payouts and their statements. Every call is scoped to the key's shop (another shop's payout is 404).
Domain code is imported inside the handlers: a catalogue cold start never loads it."""

from __future__ import annotations

from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.core.document import Document
from chalicelib.payout.schemas import (
    Balance,
    PayNow,
    PayoutAccount,
    PayoutListQuery,
    PayoutPage,
    ScheduleIn,
    ScheduleOut,
    Statement,
)

TAG = "Retailer payouts"
KEY = Role.RETAILER


@endpoint(
    "POST",
    "/retailer/payouts/account",
    summary="Create my shop's Stripe account (once) and get a fresh onboarding link",
    tag=TAG,
    auth=KEY,
    response=PayoutAccount,
    status=201,
    errors=(409, 502),
    base_url=True,
)
def create_account(principal: Principal, base_url: str) -> PayoutAccount:
    from chalicelib.payout.accounts import create_account

    return create_account(principal, base_url)


@endpoint(
    "GET",
    "/retailer/payouts/account",
    summary="My payout account: not_started, onboarding, active, restricted or disconnected",
    tag=TAG,
    auth=KEY,
    response=PayoutAccount,
)
def my_account(principal: Principal) -> PayoutAccount:
    from chalicelib.payout.accounts import account_view

    return account_view(principal.shop_id or "")


@endpoint(
    "POST",
    "/retailer/payouts/account/link",
    summary="A new onboarding link (links are single-use and expire within minutes)",
    tag=TAG,
    auth=KEY,
    response=PayoutAccount,
    errors=(409, 502),
    base_url=True,
)
def new_link(principal: Principal, base_url: str) -> PayoutAccount:
    from chalicelib.payout.accounts import new_link

    return new_link(principal, base_url)


@endpoint(
    "PUT",
    "/retailer/payouts/schedule",
    summary="How often I am paid: daily, weekly (on a weekday), monthly (on a day) or manual",
    tag=TAG,
    auth=KEY,
    body=ScheduleIn,
    response=ScheduleOut,
)
def set_schedule(principal: Principal, body: ScheduleIn) -> ScheduleOut:
    from chalicelib.payout.accounts import set_schedule

    return set_schedule(principal, body)


@endpoint(
    "GET",
    "/retailer/balance",
    summary="My balance: pending, on hold, disputed, available, carried forward, in transit, paid out",
    tag=TAG,
    auth=KEY,
    response=Balance,
)
def my_balance(principal: Principal) -> Balance:
    from chalicelib.payout.balance import shop_balance

    return shop_balance(principal.shop_id or "")


@endpoint(
    "GET",
    "/retailer/payouts",
    summary="My payouts, newest first",
    tag=TAG,
    auth=KEY,
    query=PayoutListQuery,
    response=PayoutPage,
)
def my_payouts(principal: Principal, query: PayoutListQuery) -> PayoutPage:
    from chalicelib.payout.statements import shop_payouts

    return shop_payouts(principal.shop_id or "", query)


@endpoint(
    "POST",
    "/retailer/payouts",
    summary="Pay out my available balance now (a manual schedule's way to be paid)",
    tag=TAG,
    auth=KEY,
    response=PayNow,
    status=201,
    errors=(409, 422, 502),
)
def pay_me_now(principal: Principal) -> PayNow:
    from chalicelib.payout.statements import payout_view
    from chalicelib.payout.worker import pay_now

    run = pay_now(principal.require_writable_shop(), "retailer")
    return PayNow([payout_view(p) for p in run.payouts])


@endpoint(
    "GET",
    "/retailer/payouts/{payout_id}",
    summary="One payout's statement: every order line, sale, commission, refund, clawback and the net",
    tag=TAG,
    auth=KEY,
    response=Statement,
)
def my_statement(principal: Principal, payout_id: str) -> Statement:
    from chalicelib.payout.statements import own_payout, statement

    return statement(own_payout(principal.shop_id or "", payout_id))


@endpoint(
    "GET",
    "/retailer/payouts/{payout_id}/statement.csv",
    summary="The same statement as CSV (amounts in euros)",
    tag=TAG,
    auth=KEY,
    media_type="text/csv",
)
def my_statement_csv(principal: Principal, payout_id: str) -> Document:
    from chalicelib.payout.statements import own_payout, statement_csv

    return statement_csv(own_payout(principal.shop_id or "", payout_id))


_DONE = (
    '<!doctype html><html lang="en"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width"><title>{title}</title>'
    '<body style="font-family:system-ui;max-width:32rem;margin:3rem auto;padding:0 1rem">'
    "<h1>{title}</h1><p>{text}</p></body></html>"
)


@endpoint(
    "GET",
    "/payouts/onboarding/return",
    summary="Where Stripe sends a shop back after onboarding (unless the stage sets CONNECT_RETURN_URL)",
    tag=TAG,
    media_type="text/html",
)
def onboarding_returned() -> Document:
    text = "Stripe has your details. Go back to the mall's back office to see your payout status."
    return Document("text/html", _DONE.format(title="Thank you", text=text))


@endpoint(
    "GET",
    "/payouts/onboarding/refresh",
    summary="Where Stripe sends a shop whose onboarding link expired (unless CONNECT_REFRESH_URL is set)",
    tag=TAG,
    media_type="text/html",
)
def onboarding_expired() -> Document:
    text = "This onboarding link has expired or was used already. Ask the back office for a new one."
    return Document("text/html", _DONE.format(title="Link expired", text=text))
