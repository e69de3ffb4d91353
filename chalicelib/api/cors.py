"""What a browser on another origin may do with this API (CORS), from the stage's CORS_ALLOW_ORIGIN.

Chalice sends these headers with every route's answer and API Gateway answers each path's preflight
(OPTIONS) from them: deployed, that preflight is a mock integration with fixed values, so the allowed
origin is one value per stage, `*` or one origin (README, "Deploying"). The API authenticates with
headers, never cookies, so `*` lets no page act as a signed-in person it is not.
"""

from __future__ import annotations

import re

from chalice import CORSConfig

# Every request header a route reads (RouteSpec.headers) that a browser may send: a test holds the routes
# to this list. Stripe-Signature is left out: only Stripe sends it, server to server.
ALLOWED_HEADERS: tuple[str, ...] = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Cart-Token",
    "X-Order-Token",
)
# Response headers a page needs to read: when to retry a 429, the methods of a 405, a statement's name.
EXPOSED_HEADERS: tuple[str, ...] = ("Retry-After", "Allow", "Content-Disposition", "WWW-Authenticate")
SERVER_ONLY_HEADERS: frozenset[str] = frozenset({"stripe-signature"})
# A browser may reuse a preflight answer this long (seconds; Chromium caps it at 7200).
MAX_AGE_S = 600
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def allowed_origin(value: str) -> str:
    """CORS_ALLOW_ORIGIN checked: `*` or one origin (scheme://host[:port], no path). A list cannot be
    served by the gateway's fixed preflight answer, so it is refused here rather than half working."""
    origin = value.strip() or "*"
    if origin != "*" and not _ORIGIN.match(origin):
        raise ValueError(f"CORS_ALLOW_ORIGIN must be '*' or one origin like https://mall.example: {value!r}")
    return origin


def cors_config(origin: str) -> CORSConfig:
    return CORSConfig(
        allow_origin=allowed_origin(origin),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=MAX_AGE_S,
    )
