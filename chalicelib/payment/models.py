from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import MallItem


class ProcessedEvent(MallItem, discriminator="stripe_event"):
    """pk = STRIPE_EVENT#<event id>, sk = EVENT. Written with attribute_not_exists in the same transaction
    as the effect of the event, so each event takes effect exactly once. Kept 30 days (TTL)."""

    event_type = UnicodeAttribute()
    outcome = UnicodeAttribute()
    processed_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key_for(event_id: str) -> tuple[str, str]:
        return f"STRIPE_EVENT#{event_id}", "EVENT"


class SimulatedIntent(MallItem, discriminator="simulated_payment_intent"):
    """Local and test runs only: the simulated gateway keeps its PaymentIntents in the table so that every
    process (chalice local, the expiry job, tests) sees the same ones. pk = SIMPI#<id> or SIMKEY#<key>."""

    payment_intent_id = UnicodeAttribute()
    status = UnicodeAttribute(default="")
    amount = NumberAttribute(default=0)
    currency = UnicodeAttribute(default="eur")
    client_secret = UnicodeAttribute(default="")
    transfer_group = UnicodeAttribute(default="")
    order_id = UnicodeAttribute(default="")
    fingerprint = UnicodeAttribute(default="")
    refunded_amount = NumberAttribute(null=True)  # an intent's refunds so far (pk = SIMPI#)


class SimulatedObject(MallItem, discriminator="simulated_object"):
    """Local and test runs only: the simulated gateway's Connect objects (accounts, transfers, reversals,
    bank payouts) at pk = SIM#<kind>#<id>, sk = OBJECT, and its idempotency keys at pk = SIMKEY#<key>,
    sk = CONNECT (naming the object; ``fingerprint`` of the request, as Stripe compares parameters)."""

    object_id = UnicodeAttribute()
    data = JSONAttribute(default=dict)  # what does not change, or changes whole (an account's state)
    fingerprint = UnicodeAttribute(default="")
    # What moves under conditions: an account's balance, a transfer's reversed amount, a payout's status.
    balance = NumberAttribute(null=True)
    amount_reversed = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(kind: str, object_id: str) -> tuple[str, str]:
        return f"SIM#{kind}#{object_id}", "OBJECT"
