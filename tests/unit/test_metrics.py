"""The metrics helper (chalicelib/core/metrics.py) and the middleware every function runs in
(chalicelib/core/invocation.py): EMF lines per dimension set, codes only as dimension values, never a
failed invocation because of metrics or logs, the Lambda context in every log line, cold starts once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.checkout.errors import (
    CartEmpty,
    CartNotReady,
    CheckoutInProgress,
    IdempotencyKeyReused,
    InsufficientStock,
    SlotFull,
    SlotUnavailable,
)
from chalicelib.checkout.refusals import refusal_reason
from chalicelib.core import invocation, metrics
from chalicelib.core.log import logger


def emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    metrics.flush()
    yield
    metrics._pending.clear()


def test_counts_are_printed_as_one_emf_line_per_dimension_set_at_flush(capsys) -> None:
    capsys.readouterr()
    metrics.count("OrdersPlaced")
    metrics.count("OrdersPlaced")
    metrics.cents("RefundedCents", 1250)
    metrics.count("CheckoutRefused", reason="stock")
    assert capsys.readouterr().out == ""  # nothing before the invocation ends

    assert metrics.flush() == 4
    lines = emf_lines(capsys.readouterr().out)
    assert len(lines) == 2
    plain, refused = lines
    (directive,) = plain["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DigitalMall"
    assert sorted(directive["Dimensions"][0]) == ["service", "stage"]
    assert (plain["stage"], plain["service"]) == ("test", "digital-mall")
    assert plain["OrdersPlaced"] == [1.0, 1.0] and plain["RefundedCents"] == [1250.0]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {"OrdersPlaced": "Count", "RefundedCents": "None"}
    assert sorted(refused["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["reason", "service", "stage"]
    assert (refused["reason"], refused["CheckoutRefused"]) == ("stock", [1.0])
    assert "reason" not in plain  # one invocation's dimensions never leak into another set

    assert metrics.flush() == 0 and capsys.readouterr().out == ""


def test_a_dimension_value_not_on_its_list_is_recorded_as_other(capsys) -> None:
    metrics.count("CheckoutRefused", reason="an.peeters@example.be")
    metrics.count("CheckoutRefused", reason="dm_rt_" + "a" * 32)  # lower-case letters and _ but no reason
    metrics.count("ColdStart", function="Korenmarkt 1, 9000 Gent")
    metrics.count("OrdersPlaced", shop="shp_1")  # not a dimension we have
    assert [p["dimensions"] for p in metrics.pending()] == [
        {"reason": "other"},
        {"reason": "other"},
        {"function": "other"},
        {"shop": "other"},
    ]
    metrics.flush()
    out = capsys.readouterr().out
    assert "example.be" not in out and "Korenmarkt" not in out and "dm_rt_" not in out


def test_a_failing_flush_breaks_nothing_and_forgets_what_it_held(monkeypatch, capsys) -> None:
    def broken() -> Any:
        raise RuntimeError("stdout closed")

    monkeypatch.setattr(metrics, "metrics", broken)
    metrics.count("OrdersPaid")
    assert metrics.flush() == 0
    assert metrics.pending() == []
    metrics.count("OrdersPaid", value=object())  # type: ignore[arg-type]  # not a number: not counted
    assert metrics.pending() == []


@pytest.mark.parametrize(
    "error, reason",
    [
        (InsufficientStock([]), "stock"),
        (SlotFull([{"shop_id": "shp_1", "slot_start": "2026-01-01T10:00:00Z"}]), "slot"),
        (SlotUnavailable("shp_1", "2026-01-01T10:00:00Z"), "slot"),
        (CartNotReady(["shp_1:pickup_slot_unavailable"]), "slot"),
        (IdempotencyKeyReused(), "idempotency"),
        (CheckoutInProgress("ord_1"), "idempotency"),
        (CartNotReady(["var_1:out_of_stock_elsewhere", "shp_1:pickup_slot_required"]), None),
        (CartEmpty(), None),
    ],
)
def test_checkout_refusals_are_named_by_reason(error: Any, reason: str | None) -> None:
    assert refusal_reason(error) == reason


# --- the middleware -----------------------------------------------------------------------------------


def context(request_id: str = "req-1") -> SimpleNamespace:
    return SimpleNamespace(
        function_name="digital-mall-prod-pay_shops",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:digital-mall-prod-pay_shops",
        aws_request_id=request_id,
    )


@pytest.fixture
def log_lines(monkeypatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logger.registered_handler
    old_stream = handler.stream  # type: ignore[attr-defined]
    handler.setStream(stream)  # type: ignore[attr-defined]
    old_level = logger.log_level
    logger.setLevel("INFO")
    monkeypatch.setattr(invocation, "_cold", True)
    yield stream
    handler.setStream(old_stream)  # type: ignore[attr-defined]
    logger.setLevel(old_level)


def test_every_log_line_carries_the_lambda_context_and_the_trace_id(log_lines, monkeypatch, capsys) -> None:
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f;Sampled=1"
    )

    def handler(event: Any) -> str:
        logger.info("working")
        return "done"

    event = SimpleNamespace(context=context("req-1"))
    assert invocation.observed(event, handler) == "done"
    assert invocation.observed(SimpleNamespace(context=context("req-2")), handler) == "done"

    first, second = (json.loads(line) for line in log_lines.getvalue().splitlines())
    assert first["cold_start"] is True and second["cold_start"] is False
    assert (first["function_request_id"], second["function_request_id"]) == ("req-1", "req-2")
    assert first["function_name"] == "digital-mall-prod-pay_shops" and first["function_memory_size"] == 512
    assert first["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    (cold,) = [line for line in emf_lines(capsys.readouterr().out) if "ColdStart" in line]
    assert (cold["ColdStart"], cold["function"]) == ([1.0], "digital-mall-prod-pay_shops")


def test_an_http_request_is_observed_from_its_lambda_context(log_lines, capsys) -> None:
    request = SimpleNamespace(lambda_context=context("req-http"))
    invocation.observed(request, lambda r: logger.info("request"))
    assert json.loads(log_lines.getvalue())["function_request_id"] == "req-http"


def test_metrics_are_flushed_even_when_the_handler_fails(log_lines, capsys) -> None:
    def failing(event: Any) -> None:
        metrics.count("PayoutFailures")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        invocation.observed(SimpleNamespace(context=context()), failing)
    names = [
        m["Name"]
        for line in emf_lines(capsys.readouterr().out)
        for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    ]
    assert "PayoutFailures" in names and metrics.pending() == []


def test_a_context_that_cannot_be_read_never_fails_the_invocation(log_lines) -> None:
    assert invocation.observed(SimpleNamespace(context=object()), lambda e: "still served") == "still served"
