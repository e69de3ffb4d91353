"""Business and health metrics as CloudWatch embedded metrics (EMF, through Powertools Metrics): each
invocation prints its metrics as one JSON log line per dimension set when it ends, and CloudWatch Logs turns
them into metrics. No CloudWatch call, no extra IAM right, nothing to wait for on the request's path.

Namespace ``DigitalMall``; every metric carries the dimensions ``service`` and ``stage``, a few one more
(README, "Observability", lists them and where they are counted). Dimension values come from a fixed
list (a refusal reason) or the Lambda context (a function name), never from a request: whatever else is
given is recorded as ``other``, so no key, token, e-mail or address can reach a metric.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from chalicelib.core.log import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics import Metrics

NAMESPACE = "DigitalMall"
SERVICE = "digital-mall"
COUNT = "Count"
# EMF has no currency unit: amounts in cents are plain numbers.
CENTS = "None"
# The values each dimension may take: the refusal reasons, a Lambda function's name (from its context).
# Anything else, or another dimension, is recorded as "other": request data never becomes a dimension.
_ALLOWED = {
    "reason": re.compile(r"^(stock|slot|idempotency)$"),
    "function": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
}
_NEVER = re.compile(r"(?!)")  # matches nothing

_metrics: Metrics | None = None
# (name, unit, value, dimensions) counted during this invocation; printed by flush() at its end.
_pending: list[tuple[str, str, float, tuple[tuple[str, str], ...]]] = []


def metrics() -> Metrics:
    """The one Metrics object, created on first use (the stage is read then, not at import)."""
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools.metrics import Metrics

        from chalicelib.core.config import settings

        _metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
        _metrics.set_default_dimensions(stage=settings().stage)
    return _metrics


def count(name: str, value: float = 1, unit: str = COUNT, **dimensions: str) -> None:
    """Counts ``value`` (1 by default) under ``name`` in this invocation. Never raises."""
    try:
        safe = tuple(
            sorted(
                (key, v if _ALLOWED.get(key, _NEVER).match(v) else "other") for key, v in dimensions.items()
            )
        )
        _pending.append((name, unit, float(value), safe))
    except Exception:  # a metric is never worth a failed request
        logger.warning("metric not counted", extra={"metric": name})


def cents(name: str, amount_cents: int, **dimensions: str) -> None:
    count(name, amount_cents, CENTS, **dimensions)


def flush() -> int:
    """Prints what this invocation counted (one EMF line per dimension set) and forgets it; returns how
    many values were printed. Never raises: a request is never broken by its metrics."""
    taken = list(_pending)
    _pending.clear()
    if not taken:
        return 0
    try:
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        recorder = metrics()
        groups: dict[tuple[tuple[str, str], ...], list[tuple[str, str, float]]] = {}
        for name, unit, value, dims in taken:
            groups.setdefault(dims, []).append((name, unit, value))
        for dims, values in groups.items():
            for key, dim_value in dims:
                recorder.add_dimension(name=key, value=dim_value)
            for name, unit, value in values:
                recorder.add_metric(name=name, unit=unit, value=value)
            # What Metrics.flush_metrics does, with the line going through _write (tests read it there).
            line = json.dumps(recorder.serialize_metric_set(), separators=(",", ":"))
            recorder.clear_metrics()
            if not is_metrics_disabled():
                _write(line)
    except Exception:
        logger.warning("metrics not flushed", exc_info=True)
        _reset()
        return 0
    return len(taken)


def _write(line: str) -> None:
    # Lambda sends stdout to CloudWatch Logs, which reads the EMF directive in the line.
    print(line)


def pending() -> list[dict[str, Any]]:
    """What was counted and not yet flushed (for tests and local tools)."""
    return [{"name": n, "unit": u, "value": v, "dimensions": dict(d)} for n, u, v, d in _pending]


def _reset() -> None:
    # A half-built set must not leak into the next invocation's line.
    try:
        if _metrics is not None:
            _metrics.clear_metrics()
    except Exception:
        pass
