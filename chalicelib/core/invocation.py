"""What every invocation of every function does around its handler (a Chalice middleware for all event
types, registered in app.py): the log lines carry the Lambda context, as Powertools' inject_lambda_context
gives them (cold_start, function_name, function_request_id, ...; xray_trace_id comes from the
environment Lambda sets when tracing is on), and the metrics the invocation counted are flushed at its end.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalicelib.core import metrics
from chalicelib.core.log import logger

_cold = True


def observed(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware: the HTTP request or the event, and the rest of the chain."""
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    try:
        _start(context)
    except Exception:  # the context is for the logs only: never worth a failed invocation
        logger.warning("lambda context not logged", exc_info=True)
    try:
        return get_response(event)
    finally:
        metrics.flush()


def _start(context: Any) -> None:
    global _cold
    # A provisioned environment was initialised before any request: none of its invocations waits for it.
    cold = _cold and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"
    _cold = False
    keys: dict[str, Any] = {"cold_start": cold}
    if context is not None:
        from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

        keys.update(build_lambda_context_model(context).__dict__)
    # Replaces the previous invocation's keys (its request ids), as inject_lambda_context(clear_state=True).
    logger.structure_logs(**keys)
    if cold:
        metrics.count("ColdStart", function=str(keys.get("function_name") or "unknown"))
