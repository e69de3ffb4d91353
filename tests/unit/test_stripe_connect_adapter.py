"""Contract tests of StripeGateway's Connect calls (accounts, onboarding and login links, transfers and
their reversals, bank payouts on the connected account, charge fees) against the local HTTP double of
Stripe's API (fixtures of tests/unit/test_stripe_adapter.py): the exact requests, how the answers are read
into the port's values, and how every failure becomes PaymentProviderFailed, refused or not."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest
import test_stripe_adapter as adapter

from chalicelib.payment.gateway import (
    BankPayout,
    ConnectAccount,
    PaymentProviderFailed,
    Transfer,
    TransferReversal,
)
from chalicelib.payment.stripe_gateway import StripeGateway

API_KEY, CART, ORDER, error_json = adapter.API_KEY, adapter.CART, adapter.ORDER, adapter.error_json
# The double and the no-sleep patch, as fixtures of this module too.
stripe_double, no_retry_sleep = adapter.stripe_double, adapter.no_retry_sleep

SHOP = "shop_2rwkq62xccxsjnw8"
ACCOUNT = "acct_1QdMallShop00001"
PAYOUT = "payout_abc"
METADATA = {"payout_id": PAYOUT, "shop_id": SHOP}
METADATA_FORM = {"metadata[payout_id]": [PAYOUT], "metadata[shop_id]": [SHOP]}
DUE = ("business_type", "external_account", "tos_acceptance.date")

# Stripe's answers, abridged to realistic fields: a freshly created Express account, a transfer, its
# reversal and a bank payout on the connected account.
NEW_ACCOUNT: dict[str, Any] = json.loads(
    """{"id": "acct_1QdMallShop00001", "object": "account", "type": "express", "country": "BE",
    "business_type": null, "created": 1767225600, "default_currency": "eur", "email": null,
    "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
    "charges_enabled": false, "details_submitted": false, "payouts_enabled": false,
    "metadata": {"shop_id": "shop_2rwkq62xccxsjnw8"},
    "requirements": {"current_deadline": null, "disabled_reason": "requirements.past_due", "errors": [],
        "currently_due": ["business_type", "external_account", "tos_acceptance.date"],
        "eventually_due": ["business_type", "external_account", "tos_acceptance.date"],
        "past_due": ["business_type", "external_account", "tos_acceptance.date"], "pending_verification": []},
    "settings": {"payouts": {"schedule": {"delay_days": 7, "interval": "manual"}}}}"""
)
ACTIVE_ACCOUNT = {
    **NEW_ACCOUNT,
    "capabilities": {"card_payments": "active", "transfers": "active"},
    **dict.fromkeys(("charges_enabled", "details_submitted", "payouts_enabled"), True),
    "requirements": {"currently_due": [], "disabled_reason": None, "eventually_due": [], "past_due": []},
}
TRANSFER: dict[str, Any] = json.loads(
    """{"id": "tr_123", "object": "transfer", "amount": 4200, "amount_reversed": 0, "currency": "eur",
    "destination": "acct_1QdMallShop00001", "destination_payment": "py_123", "reversed": false,
    "source_transaction": null,
    "metadata": {"payout_id": "payout_abc", "shop_id": "shop_2rwkq62xccxsjnw8"}}"""
)
REVERSAL: dict[str, Any] = json.loads(
    """{"id": "trr_123", "object": "transfer_reversal", "amount": 1500, "currency": "eur",
    "destination_payment_refund": "pyr_123", "transfer": "tr_123",
    "metadata": {"payout_id": "payout_abc", "shop_id": "shop_2rwkq62xccxsjnw8", "reason": "clawback"}}"""
)
BANK_PAYOUT: dict[str, Any] = json.loads(
    """{"id": "po_123", "object": "payout", "amount": 4200, "arrival_date": 1767398400, "automatic": false,
    "currency": "eur", "destination": "ba_123", "failure_code": null, "method": "standard",
    "metadata": {"payout_id": "payout_abc", "shop_id": "shop_2rwkq62xccxsjnw8"}, "status": "pending",
    "type": "bank_account"}"""
)


def charge_json(balance_transaction: Any) -> dict[str, Any]:
    return {"id": "ch_123", "object": "charge", "amount": 2975, "balance_transaction": balance_transaction}


@pytest.fixture
def gateway(stripe_double: adapter.StripeDouble) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=stripe_double.base)


def sent(r: adapter.Recorded) -> tuple[Any, ...]:
    header = r.headers.get
    return r.method, r.path, r.query, r.form, header("idempotency-key"), header("stripe-account")


def only(double: adapter.StripeDouble, method: str, path: str, on: str | None = None) -> adapter.Recorded:
    """The one request sent, checked for its method, path, our API key and the account it is made on."""
    (request,) = double.requests
    assert (request.method, request.path) == (method, path)
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers.get("stripe-account") == on
    return request


def create_account(gateway: StripeGateway, email: str | None = None) -> ConnectAccount:
    return gateway.create_connect_account(
        shop_id=SHOP, country="BE", email=email, idempotency_key=f"connect-account:{SHOP}"
    )


def transfer(gateway: StripeGateway) -> Transfer:
    key = f"payout:{PAYOUT}"
    return gateway.create_transfer(
        amount_cents=4200, currency="EUR", destination=ACCOUNT, metadata=METADATA, idempotency_key=key
    )


def reverse(gateway: StripeGateway) -> TransferReversal:
    metadata, key = {**METADATA, "reason": "clawback"}, f"reversal:{PAYOUT}:1"
    return gateway.reverse_transfer("tr_123", amount_cents=1500, metadata=metadata, idempotency_key=key)


def bank_payout(gateway: StripeGateway) -> BankPayout:
    return gateway.create_bank_payout(
        ACCOUNT, amount_cents=4200, currency="EUR", metadata=METADATA, idempotency_key=f"bank-payout:{PAYOUT}"
    )


def account_link(gateway: StripeGateway) -> str:
    return gateway.create_account_link(
        ACCOUNT,
        refresh_url="https://mall.example/shops/onboarding/refresh",
        return_url="https://mall.example/shops/onboarding/done",
    )


# --- accounts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "owner@bakery.example"])
def test_create_connect_account_asks_for_an_express_account_with_both_capabilities_and_manual_payouts(
    gateway, stripe_double, email
):
    stripe_double.then(200, {**NEW_ACCOUNT, "email": email or None})

    account = create_account(gateway, email)

    assert account == ConnectAccount(
        ACCOUNT, "BE", False, False, False, "inactive", DUE, "requirements.past_due"
    )
    request = only(stripe_double, "POST", "/v1/accounts")
    assert request.query == {}
    assert request.form == {
        "type": ["express"],
        "country": ["BE"],
        "capabilities[card_payments][requested]": ["true"],
        "capabilities[transfers][requested]": ["true"],
        "settings[payouts][schedule][interval]": ["manual"],
        "metadata[shop_id]": [SHOP],
        **({"email": [email]} if email else {}),
    }
    assert request.headers["idempotency-key"] == f"connect-account:{SHOP}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_an_account_without_capabilities_or_requirements_reads_as_unrequested(gateway, stripe_double):
    stripe_double.then(200, {**NEW_ACCOUNT, "capabilities": {}, "requirements": None, "country": None})

    account = create_account(gateway)

    assert (account.transfers, account.currently_due, account.disabled_reason) == ("unrequested", (), None)
    assert account.country == ""


def test_retrieve_connect_account_reads_an_active_account(gateway, stripe_double):
    stripe_double.then(200, ACTIVE_ACCOUNT)

    account = gateway.retrieve_connect_account(ACCOUNT)

    assert account == ConnectAccount(ACCOUNT, "BE", True, True, True, "active", (), None)
    request = only(stripe_double, "GET", f"/v1/accounts/{ACCOUNT}")
    assert (request.query, request.form) == ({}, {})
    assert "idempotency-key" not in request.headers


# --- links ---------------------------------------------------------------------------------------------


def test_create_account_link_asks_for_onboarding_and_returns_its_url(gateway, stripe_double):
    url = "https://connect.stripe.com/setup/e/acct_1QdMallShop00001/aBcD1234"
    stripe_double.then(
        200, {"object": "account_link", "created": 1767225600, "expires_at": 1767225900, "url": url}
    )

    assert account_link(gateway) == url
    request = only(stripe_double, "POST", "/v1/account_links")
    assert request.form == {
        "account": [ACCOUNT],
        "type": ["account_onboarding"],
        "refresh_url": ["https://mall.example/shops/onboarding/refresh"],
        "return_url": ["https://mall.example/shops/onboarding/done"],
    }


def test_each_account_link_has_a_generated_key_kept_across_stripe_pythons_retries(gateway, stripe_double):
    link = {"object": "account_link", "url": "https://connect.stripe.com/setup/e/x"}
    stripe_double.then(500, error_json("api_error", "Something went wrong")).then(200, link).then(200, link)

    account_link(gateway)
    account_link(gateway)

    first, retried, second = (r.headers["idempotency-key"] for r in stripe_double.requests)
    assert first == retried  # the retry of one link asks for the same one
    assert second != first  # a new request makes a new link
    assert stripe_double.requests[0].form == stripe_double.requests[1].form


def test_create_login_link_posts_to_the_accounts_login_links_and_returns_its_url(gateway, stripe_double):
    url = "https://connect.stripe.com/express/acct_1QdMallShop00001/Lk9z"
    stripe_double.then(200, {"object": "login_link", "created": 1767225600, "url": url})

    assert gateway.create_login_link(ACCOUNT) == url
    request = only(stripe_double, "POST", f"/v1/accounts/{ACCOUNT}/login_links")
    assert request.form == {}


# --- money ---------------------------------------------------------------------------------------------


def test_create_transfer_moves_the_amount_to_the_shops_account_with_the_payout_key(gateway, stripe_double):
    stripe_double.then(200, TRANSFER)

    assert transfer(gateway) == Transfer("tr_123", 4200, 0)
    request = only(stripe_double, "POST", "/v1/transfers")  # by the platform, from its balance
    assert request.form == {
        "amount": ["4200"],
        "currency": ["eur"],
        "destination": [ACCOUNT],
        **METADATA_FORM,
    }
    assert request.headers["idempotency-key"] == f"payout:{PAYOUT}"


@pytest.mark.parametrize(("reversed_cents", "read"), [(1500, 1500), (None, 0)])
def test_a_transfers_reversed_amount_is_read(gateway, stripe_double, reversed_cents, read):
    stripe_double.then(200, {**TRANSFER, "amount_reversed": reversed_cents})

    assert transfer(gateway).amount_reversed == read


def test_reverse_transfer_posts_the_amount_to_the_transfers_reversals(gateway, stripe_double):
    stripe_double.then(200, REVERSAL)

    assert reverse(gateway) == TransferReversal("trr_123", 1500)
    request = only(stripe_double, "POST", "/v1/transfers/tr_123/reversals")
    assert request.form == {"amount": ["1500"], **METADATA_FORM, "metadata[reason]": ["clawback"]}
    assert request.headers["idempotency-key"] == f"reversal:{PAYOUT}:1"


def test_create_bank_payout_is_made_on_the_connected_account(gateway, stripe_double):
    stripe_double.then(200, BANK_PAYOUT)

    assert bank_payout(gateway) == BankPayout("po_123", "pending", 4200, None)
    request = only(stripe_double, "POST", "/v1/payouts", on=ACCOUNT)
    assert request.form == {"amount": ["4200"], "currency": ["eur"], **METADATA_FORM}
    assert request.headers["idempotency-key"] == f"bank-payout:{PAYOUT}"


def test_retrieve_bank_payout_reads_a_failed_payouts_failure_code(gateway, stripe_double):
    stripe_double.then(200, {**BANK_PAYOUT, "status": "failed", "failure_code": "account_closed"})

    assert gateway.retrieve_bank_payout(ACCOUNT, "po_123") == BankPayout(
        "po_123", "failed", 4200, "account_closed"
    )
    request = only(stripe_double, "GET", "/v1/payouts/po_123", on=ACCOUNT)
    assert (request.query, request.form) == ({}, {})
    assert "idempotency-key" not in request.headers


@pytest.mark.parametrize(
    ("balance_transaction", "fee"),
    [({"id": "txn_123", "object": "balance_transaction", "amount": 2975, "fee": 117}, 117), (None, None)],
    ids=["settled", "no-balance-transaction-yet"],
)
def test_charge_fee_reads_the_expanded_balance_transactions_fee(
    gateway, stripe_double, balance_transaction, fee
):
    stripe_double.then(200, charge_json(balance_transaction))

    assert gateway.charge_fee("ch_123") == fee
    request = only(stripe_double, "GET", "/v1/charges/ch_123")
    assert request.query == {"expand[0]": ["balance_transaction"]}  # stripe-python indexes list items
    assert request.form == {}
    assert "idempotency-key" not in request.headers


@pytest.mark.parametrize(
    ("latest_charge", "expected"),
    [("ch_123", "ch_123"), ({"id": "ch_123", "object": "charge", "amount": 2975}, "ch_123"), (None, None)],
    ids=["id", "expanded", "none-yet"],
)
def test_retrieve_payment_intent_reads_its_metadata_and_latest_charge(
    gateway, stripe_double, latest_charge, expected
):
    stripe_double.then(200, adapter.intent_json("succeeded", latest_charge=latest_charge))

    intent = gateway.retrieve_payment_intent("pi_123")

    assert intent.metadata == {"order_id": ORDER, "cart_id": CART}
    assert type(intent.metadata) is dict
    assert intent.latest_charge == expected


# --- failures ------------------------------------------------------------------------------------------

CALLS: dict[str, Callable[[StripeGateway], object]] = {
    "create_account": create_account,
    "retrieve_account": lambda g: g.retrieve_connect_account(ACCOUNT),
    "account_link": account_link,
    "login_link": lambda g: g.create_login_link(ACCOUNT),
    "transfer": transfer,
    "reverse_transfer": reverse,
    "bank_payout": bank_payout,
    "retrieve_bank_payout": lambda g: g.retrieve_bank_payout(ACCOUNT, "po_123"),
    "charge_fee": lambda g: g.charge_fee("ch_123"),
}
KEYS = {
    "create_account": f"connect-account:{SHOP}",
    "transfer": f"payout:{PAYOUT}",
    "reverse_transfer": f"reversal:{PAYOUT}:1",
    "bank_payout": f"bank-payout:{PAYOUT}",
}
INVALID = "invalid_request_error"
REFUSALS = [  # (status, body, reason)
    (400, error_json(INVALID, "Invalid amount", "parameter_invalid_integer"), "parameter_invalid_integer"),
    (404, error_json(INVALID, "No such transfer: 'tr_123'", "resource_missing"), "resource_missing"),
    (400, error_json(INVALID, "Bad request"), "InvalidRequestError"),
    (402, error_json("card_error", "Your card was declined.", "card_declined"), "card_declined"),
    # stripe-python sets .code only on CardError and InvalidRequestError: a 403's comes from its body.
    (403, error_json("permission_error", "No access to account", "account_invalid"), "account_invalid"),
]


@pytest.mark.parametrize("operation", CALLS)
@pytest.mark.parametrize(
    ("status", "body", "reason"), REFUSALS, ids=["400", "404", "400-no-code", "402", "403"]
)
def test_a_refusal_is_refused_with_stripes_code_and_asked_once(
    gateway, stripe_double, operation, status, body, reason
):
    stripe_double.then(status, body)

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](gateway)

    assert (failure.value.refused, failure.value.reason) == (True, reason)
    assert failure.value.details == {"operation": operation}
    assert failure.value.code == "payment_provider_failed"
    assert len(stripe_double.requests) == 1


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("transfer", "balance_insufficient"),
        ("reverse_transfer", "insufficient_funds"),
        ("bank_payout", "balance_insufficient"),
    ],
)
def test_a_balance_too_low_is_refused_with_its_code(gateway, stripe_double, operation, code):
    stripe_double.then(400, error_json(INVALID, "Insufficient funds in Stripe account.", code))

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](gateway)

    assert (failure.value.refused, failure.value.reason) == (True, code)
    assert failure.value.details == {"operation": operation}


@pytest.mark.parametrize("operation", CALLS)
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, error_json("api_error", "Something went wrong on Stripe's end.")),
        (503, "<html>Service Unavailable</html>"),
        (409, error_json("idempotency_error", "A request with this key is in progress.")),
    ],
    ids=["500", "503", "409-idempotency"],
)
def test_an_unknown_outcome_is_retried_twice_with_the_same_request_then_not_refused(
    gateway, stripe_double, operation, status, body
):
    for _ in range(3):
        stripe_double.then(status, body)

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](gateway)

    assert (failure.value.refused, failure.value.reason) == (False, "APIError")
    assert failure.value.details == {"operation": operation}
    first, *retries = stripe_double.requests
    assert [sent(r) for r in retries] == [sent(first)] * 2  # max_network_retries=2, the same request
    key = first.headers.get("idempotency-key")
    if operation in KEYS:
        assert key == KEYS[operation]
    else:  # GETs carry none; an account link's key is generated by stripe-python
        assert (key is None) is (first.method == "GET")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, error_json("rate_limit", "Too many requests"), "RateLimitError"),
        (400, error_json("invalid_request_error", "Too many requests", "rate_limit"), "rate_limit"),
        (
            400,
            error_json("idempotency_error", "Keys must be used with the same parameters"),
            "IdempotencyError",
        ),
        # The mall's own key was refused: fix and retry, never a verdict on the shop's account.
        (401, error_json(INVALID, "Invalid API Key provided: sk_test_****ummy"), "AuthenticationError"),
    ],
    ids=["429", "400-rate-limit", "400-idempotency", "401"],
)
@pytest.mark.parametrize("operation", ["transfer", "bank_payout", "retrieve_account"])
def test_a_rate_limit_or_idempotency_error_is_not_refused_and_not_retried(
    gateway, stripe_double, operation, status, body, reason
):
    stripe_double.then(status, body)

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](gateway)

    assert (failure.value.refused, failure.value.reason) == (False, reason)
    assert failure.value.details == {"operation": operation}
    assert len(stripe_double.requests) == 1


def test_a_retry_that_succeeds_returns_the_transfer(gateway, stripe_double):
    stripe_double.then(500, error_json("api_error", "Something went wrong")).then(200, TRANSFER)

    assert transfer(gateway) == Transfer("tr_123", 4200, 0)
    assert [r.headers["idempotency-key"] for r in stripe_double.requests] == [f"payout:{PAYOUT}"] * 2


@pytest.mark.parametrize("operation", CALLS)
def test_an_unreachable_stripe_is_an_unknown_outcome(operation):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{port}"))

    assert (failure.value.refused, failure.value.reason) == (False, "APIConnectionError")
    assert failure.value.details == {"operation": operation}


@pytest.mark.parametrize(
    ("operation", "answer"),
    [
        ("transfer", {"id": "tr_123", "object": "transfer"}),
        ("account_link", {"object": "account_link"}),
        ("bank_payout", {"id": "po_123", "object": "payout", "amount": 4200}),
    ],
)
def test_a_success_missing_a_field_is_an_unknown_outcome_not_a_crash(
    gateway, stripe_double, operation, answer
):
    stripe_double.then(200, answer)

    with pytest.raises(PaymentProviderFailed) as failure:
        CALLS[operation](gateway)

    assert (failure.value.refused, failure.value.reason) == (False, "unreadable_answer")
