"""Stripe webhook deliveries: verified on the raw body with the endpoint's own signing secret (stripe's
own verification), replays refused by age. What an event does is the domains' business; the dispatch is
chalicelib/api/stripe_webhooks.py."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from msgspec import Struct

from chalicelib.core.errors import FieldProblem, InvalidInput

# How old a signed delivery may be: Stripe's default. Older ones are replays.
TOLERANCE_SECONDS = 300


class WebhookAck(Struct):
    received: bool
    outcome: str


class BadSignature(InvalidInput):
    code = "invalid_signature"

    def __init__(self) -> None:
        super().__init__(
            [FieldProblem("Stripe-Signature", "does not match the body, or the delivery is too old")]
        )


class MalformedEvent(InvalidInput):
    """Signed by Stripe's secret but not shaped like an event we understand: acknowledged with a 400 and
    a log line rather than a 500, which Stripe would retry for days."""

    code = "malformed_event"

    def __init__(self, field: str) -> None:
        super().__init__([FieldProblem(field, "is missing or has the wrong type")])


def verified_event(raw_body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    import stripe  # only webhook deliveries pay for this import

    try:
        stripe.WebhookSignature.verify_header(raw_body.decode(), signature, secret, TOLERANCE_SECONDS)
        event = json.loads(raw_body)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, RecursionError):
        raise BadSignature() from None
    if not isinstance(event, dict):
        raise BadSignature()
    try:
        msgspec.convert(event, _Envelope)
    except msgspec.ValidationError as error:
        raise MalformedEvent(_field_of(str(error))) from None
    return event


class _EventData(Struct):
    object: dict[str, Any]


class _Envelope(Struct):
    """What every event must carry before any domain reads it: the domains then read ``data.object``'s
    fields one by one, each with its own type check (a Stripe object has dozens we never read)."""

    id: str
    type: str
    data: _EventData
    account: str | None = None  # Connect events only: the connected account the event is about


_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def _field_of(message: str) -> str:
    """The dotted path msgspec names ("Expected `str`, got `array` - at `$.data.object`"), with the
    missing field's name appended when one is missing."""
    at = _AT.search(message)
    missing = _MISSING.search(message)
    parts = [part for part in (at.group(1) if at else "", missing.group(1) if missing else "") if part]
    return ".".join(parts) or "event"


def event_object(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def text(value: Any) -> str | None:
    """A string field of a provider object, or None when it is absent or not a string."""
    return value if isinstance(value, str) and value else None
