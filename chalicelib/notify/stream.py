"""Where the table's stream is, for the `relay_order_events` Lambda (app.py). Kept apart from the relay so
that the API's cold start, which imports app.py, loads nothing of it."""

from __future__ import annotations

import os

from chalicelib.core.config import settings


def table_stream_arn() -> str:
    """Chalice reads it when it imports app.py to deploy: TABLE_STREAM_ARN of the stage (the stack's
    TableStreamArn output, README "Deploying"). Elsewhere (tests, chalice local, which run no event
    sources) a placeholder of the same shape."""
    configured = os.environ.get("TABLE_STREAM_ARN")
    if configured:
        return configured
    return f"arn:aws:dynamodb:{settings().region}:000000000000:table/{settings().table_name}/stream/local"
