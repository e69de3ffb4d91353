"""The simulated gateway's controls, the order event feed and the payout sweep on demand. Imported (and so
registered) only when PAYMENT_GATEWAY=simulated: the local stack and tests; a stage with real Stripe has
no such routes."""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode

from chalicelib.api.payments import handle_connect_webhook, handle_stripe_webhook
from chalicelib.api.routing import endpoint
from chalicelib.core.document import Document
from chalicelib.order.schemas import EventQuery, OrderEventPage
from chalicelib.payment.webhooks import WebhookAck
from chalicelib.payout.schemas import OnboardingQuery, SweepQuery, SweepRun

TAG = "Development"


def _deliver_platform(body: bytes, signature: str) -> WebhookAck:
    return handle_stripe_webhook(body, signature)


def _deliver_connect(body: bytes, signature: str) -> WebhookAck:
    return handle_connect_webhook(body, signature)


@endpoint(
    "POST",
    "/dev/payments/{payment_intent_id}/succeed",
    summary="Simulated gateway: the customer pays; a signed webhook is delivered",
    tag=TAG,
    response=WebhookAck,
    errors=(409,),
)
def simulate_success(payment_intent_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import finish_payment

    return finish_payment(payment_intent_id, "succeed", _deliver_platform)


@endpoint(
    "POST",
    "/dev/payments/{payment_intent_id}/fail",
    summary="Simulated gateway: the payment fails; a signed webhook is delivered",
    tag=TAG,
    response=WebhookAck,
    errors=(409,),
)
def simulate_failure(payment_intent_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import finish_payment

    return finish_payment(payment_intent_id, "fail", _deliver_platform)


@endpoint(
    "GET",
    "/dev/events",
    summary="Order events recorded today (and yesterday), newest first: what notifications will send",
    tag=TAG,
    query=EventQuery,
    response=OrderEventPage,
)
def recent_events(query: EventQuery) -> OrderEventPage:
    from chalicelib.order.events import recent_events

    return recent_events(query.limit)


# --- Connect: the shop's onboarding and its bank ----------------------------------------------------


@endpoint(
    "POST",
    "/dev/connect/accounts/{account_id}/complete",
    summary="Simulated Stripe: the shop finishes onboarding; a signed account.updated is delivered",
    tag=TAG,
    response=WebhookAck,
)
def complete_onboarding(account_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import complete_onboarding

    return complete_onboarding(account_id, _deliver_connect)


@endpoint(
    "POST",
    "/dev/connect/accounts/{account_id}/restrict",
    summary="Simulated Stripe: Stripe restricts the account until the shop sends a document",
    tag=TAG,
    response=WebhookAck,
)
def restrict_account(account_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import restrict

    return restrict(account_id, _deliver_connect)


@endpoint(
    "POST",
    "/dev/connect/accounts/{account_id}/disconnect",
    summary="Simulated Stripe: the shop removes the mall's access (account.application.deauthorized)",
    tag=TAG,
    response=WebhookAck,
)
def disconnect_account(account_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import disconnect

    return disconnect(account_id, _deliver_connect)


@endpoint(
    "POST",
    "/dev/connect/payouts/{bank_payout_id}/paid",
    summary="Simulated bank: the payout reached the shop's bank (payout.paid)",
    tag=TAG,
    response=WebhookAck,
)
def bank_paid(bank_payout_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import settle_bank_payout

    return settle_bank_payout(bank_payout_id, True, _deliver_connect)


@endpoint(
    "POST",
    "/dev/connect/payouts/{bank_payout_id}/returned",
    summary="Simulated bank: the bank sends the payout back (payout.failed)",
    tag=TAG,
    response=WebhookAck,
)
def bank_returned(bank_payout_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import settle_bank_payout

    return settle_bank_payout(bank_payout_id, False, _deliver_connect)


_PAGE = """<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Stripe onboarding (simulated)</title>
<body style="font-family:system-ui;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1>Stripe onboarding (simulated)</h1>
<p>Account <code>{account}</code>. In production this is Stripe's own page, where the shop gives its
identity and bank details.</p>
<form method="post" action="{complete}"><button type="submit">Complete onboarding</button></form>
<p><a href="{leave}">Leave without finishing</a></p>
</body></html>"""
# Without the link's URLs (an old link, a script): the API's own pages.
_RETURN = "/payouts/onboarding/return"


@endpoint(
    "GET",
    "/dev/connect/accounts/{account_id}/onboarding",
    summary="Simulated Stripe onboarding page (where the account link leads locally)",
    tag=TAG,
    query=OnboardingQuery,
    media_type="text/html",
)
def onboarding_page(account_id: str, query: OnboardingQuery) -> Document:
    # As on Stripe: leaving (finished or not) goes to the link's return_url; the account's state is read
    # from the API, never from the way back.
    back = query.return_url or _RETURN
    complete = f"/dev/connect/accounts/{quote(account_id)}/complete-form?{urlencode({'return_url': back})}"
    page = _PAGE.format(account=escape(account_id), complete=escape(complete), leave=escape(back))
    return Document("text/html", page)


@endpoint(
    "POST",
    "/dev/connect/accounts/{account_id}/complete-form",
    summary="The onboarding page's button: completes onboarding and shows where to go next",
    tag=TAG,
    query=OnboardingQuery,
    media_type="text/html",
    content_types=("application/x-www-form-urlencoded", "application/json"),
)
def complete_from_page(account_id: str, query: OnboardingQuery) -> Document:
    from chalicelib.payment.simulator import complete_onboarding

    ack = complete_onboarding(account_id, _deliver_connect)
    text = "Onboarding complete." if ack.outcome == "active" else f"Stripe answered: {ack.outcome}."
    back = escape(query.return_url or _RETURN)
    return Document(
        "text/html",
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Done</title><p>{escape(text)} '
        f'<a href="{back}">Back to the shop</a></p></html>',
    )


@endpoint(
    "GET",
    "/dev/connect/accounts/{account_id}/dashboard",
    summary="Simulated Express dashboard: the connected account's Stripe balance",
    tag=TAG,
    media_type="text/html",
)
def dashboard(account_id: str) -> Document:
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    balance = SimulatedGateway().balance(account_id)
    return Document(
        "text/html",
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Dashboard</title>'
        f"<h1>Stripe Express (simulated)</h1><p>Account {escape(account_id)}: balance "
        f"{balance // 100}.{balance % 100:02d} EUR</p></html>",
    )


# --- payouts ----------------------------------------------------------------------------------------


@endpoint(
    "POST",
    "/dev/payouts/run",
    summary="Run the payout sweep now, paying each due shop at once (days_ahead: as if later)",
    tag=TAG,
    query=SweepQuery,
    response=SweepRun,
)
def run_payouts(query: SweepQuery) -> SweepRun:
    from chalicelib.payout.dev import run_sweep_now

    return run_sweep_now(query.days_ahead)
