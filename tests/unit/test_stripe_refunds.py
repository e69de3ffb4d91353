"""Contract tests of StripeGateway.create_refund against the local HTTP double of Stripe's API (fixtures of
tests/unit/test_stripe_adapter.py): the exact request, the Idempotency-Key (the same on stripe-python's own
retries), how the refund object is read, and every failure as PaymentProviderFailed."""

from __future__ import annotations

from typing import Any

import pytest
import test_stripe_adapter as adapter

from chalicelib.payment.gateway import PaymentProviderFailed, ProviderRefund
from chalicelib.payment.stripe_gateway import StripeGateway

API_KEY, ORDER, StripeDouble, error_json = (
    adapter.API_KEY,
    adapter.ORDER,
    adapter.StripeDouble,
    adapter.error_json,
)
# The double and the no-sleep patch, as fixtures of this module too.
stripe_double, no_retry_sleep = adapter.stripe_double, adapter.no_retry_sleep

REFUND = "ref_0jx8v3kq1n2m4p5r"
SHOP = "shop_2rwkq62xccxsjnw8"
METADATA = {"order_id": ORDER, "shop_id": SHOP, "refund_id": REFUND}


def refund_json(status: str = "succeeded", amount: int = 1850) -> dict[str, Any]:
    """A refund object as Stripe's API returns it (abridged to realistic fields)."""
    return {
        "id": "re_123",
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_123",
        "charge": "ch_123",
        "created": 1767225600,
        "currency": "eur",
        "metadata": METADATA,
        "payment_intent": "pi_123",
        "reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


@pytest.fixture
def gateway(stripe_double: StripeDouble) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=stripe_double.base)


def create(gateway: StripeGateway) -> ProviderRefund:
    return gateway.create_refund("pi_123", 1850, idempotency_key=f"refund:{REFUND}", metadata=METADATA)


def test_create_refund_posts_exactly_the_intent_amount_and_metadata_with_the_refund_key(
    gateway, stripe_double
):
    stripe_double.then(200, refund_json())

    answer = create(gateway)

    assert answer == ProviderRefund("re_123", "succeeded", 1850)
    (request,) = stripe_double.requests
    assert (request.method, request.path, request.query) == ("POST", "/v1/refunds", {})
    assert request.form == {
        "payment_intent": ["pi_123"],
        "amount": ["1850"],
        "metadata[order_id]": [ORDER],
        "metadata[shop_id]": [SHOP],
        "metadata[refund_id]": [REFUND],
    }
    assert request.headers["idempotency-key"] == f"refund:{REFUND}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_a_pending_refund_is_reported_as_pending(gateway, stripe_double):
    stripe_double.then(200, refund_json("pending"))

    assert create(gateway).status == "pending"


def test_a_transient_failure_is_retried_with_the_same_idempotency_key(gateway, stripe_double):
    stripe_double.then(500, error_json("api_error", "Something went wrong")).then(200, refund_json())

    assert create(gateway).id == "re_123"

    assert [r.headers["idempotency-key"] for r in stripe_double.requests] == [f"refund:{REFUND}"] * 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, error_json("invalid_request_error", "Refund amount is greater than unrefunded amount")),
        (
            400,
            error_json(
                "invalid_request_error", "This charge has already been refunded", "charge_already_refunded"
            ),
        ),
        (401, error_json("invalid_request_error", "Invalid API Key provided")),
        (500, error_json("api_error", "Something went wrong")),
        (200, "not json"),
    ],
)
def test_every_provider_failure_is_payment_provider_failed(gateway, stripe_double, status, body):
    for _ in range(3):  # stripe-python retries 5xx twice
        stripe_double.then(status, body)

    with pytest.raises(PaymentProviderFailed) as failure:
        create(gateway)

    assert failure.value.details == {"operation": "refund"}
