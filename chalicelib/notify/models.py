"""Items of the notification relay: a shop's webhook and one delivery of one event to it."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.db import MallItem, shard_of

# Sparse gsi3 partitions of the deliveries waiting for an attempt, sorted by when they are due; sharded by
# shop, so a shop's deliveries share one shard (read in order) and no one partition takes every write.
DUE_PARTITION = "WEBHOOKS#due#{shard}"
DUE_SHARDS = 8
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
# The shop removed or replaced its webhook before this delivery succeeded: nobody is left to send it to.
DROPPED = "dropped"


class WebhookItem(MallItem, discriminator="webhook"):
    """pk = SHOP#<shop id>, sk = WEBHOOK: where a shop receives its order events, and the key that signs them.

    The secret is stored as issued because signing needs it (a digest could only verify); it is shown once,
    never returned by GET and never logged. The table is encrypted at rest.
    """

    shop_id = UnicodeAttribute()
    url = UnicodeAttribute()
    secret = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # The last attempt's outcome, for GET /retailer/webhook.
    last_event_id = UnicodeAttribute(null=True)
    last_status = UnicodeAttribute(null=True)
    last_http_status = NumberAttribute(null=True)
    last_attempt_at = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(shop_id: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", "WEBHOOK"


class DeliveryItem(MallItem, discriminator="webhook_delivery"):
    """pk = WEBHOOK#<shop id>, sk = <event id>: one event for one shop's webhook, until it is delivered or
    has failed for good. Keyed by the event id, so relaying an event twice creates it once.

    gsi3: WEBHOOKS#due#<shard 0..7> / <next attempt at>#<shop>#<event id> while an attempt is due (sparse).
    Kept 30 days (TTL on ``expires_at``).
    """

    shop_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    # The exact bytes POSTed (and signed) on every attempt, so a retry is byte-identical.
    body = UnicodeAttribute()
    # The webhook's created_at when this delivery was made: a replaced webhook (new URL, new secret) does
    # not receive deliveries meant for the old one.
    webhook_created_at = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    next_attempt_at = UnicodeAttribute(null=True)
    last_http_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key_for(shop_id: str, event_id: str) -> tuple[str, str]:
        return f"WEBHOOK#{shop_id}", event_id

    def due_at(self, stamp: str) -> None:
        self.next_attempt_at = stamp
        self.gsi3pk = due_partition(self.shop_id)
        self.gsi3sk = f"{stamp}#{self.shop_id}#{self.event_id}"


def due_partition(shop_id: str) -> str:
    return DUE_PARTITION.format(shard=shard_of(shop_id, DUE_SHARDS))
