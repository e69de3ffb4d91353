"""Unit tests for chalicelib.order.lifecycle: the sub-order state machine, checked cell by cell.

The expectations come from EXPECTED_MOVES below, typed out again from the specification in a different
shape (text, not the module's table), so a slip in TRANSITIONS cannot also hide in the oracle.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.order import lifecycle
from chalicelib.order.lifecycle import Actor, IllegalTransition, PickupCodeRequired, Rule, Status

STATUSES = [
    "pending_payment",
    "paid",
    "preparing",
    "ready_for_pickup",
    "out_for_delivery",
    "collected",
    "delivered",
    "cancelled",
    "refunded",
    "partially_refunded",
]
ACTORS = ["customer", "retailer", "system"]
METHODS = ["pickup", "delivery"]

# from                to                  actors                    method     pickup code
EXPECTED_MOVES = """
pending_payment       paid                system                    both
pending_payment       cancelled           system                    both
paid                  preparing           retailer                  both
paid                  cancelled           retailer,customer,system  both
preparing             ready_for_pickup    retailer                  pickup
preparing             out_for_delivery    retailer                  delivery
preparing             cancelled           retailer,customer         both
ready_for_pickup      collected           retailer                  pickup     code
ready_for_pickup      cancelled           retailer,system           both
out_for_delivery      delivered           retailer                  delivery
cancelled             refunded            system                    both
collected             partially_refunded  system                    both
collected             refunded            system                    both
delivered             partially_refunded  system                    both
delivered             refunded            system                    both
partially_refunded    partially_refunded  system                    both
partially_refunded    refunded            system                    both
"""


def _parse() -> tuple[set[tuple[str, str, str, str]], set[tuple[str, str]]]:
    allowed: set[tuple[str, str, str, str]] = set()
    needs_code: set[tuple[str, str]] = set()
    for line in EXPECTED_MOVES.strip().splitlines():
        source, target, actors, method, *flags = line.split()
        methods = METHODS if method == "both" else [method]
        for actor, each_method in itertools.product(actors.split(","), methods):
            allowed.add((source, target, actor, each_method))
        if flags == ["code"]:
            needs_code.add((source, target))
    return allowed, needs_code


ALLOWED, NEEDS_CODE = _parse()


def expected_next(current: str, actor: str, method: str) -> list[str]:
    return sorted(
        target for source, target, who, how in ALLOWED if (source, who, how) == (current, actor, method)
    )


def reachable_from(start: str, method: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for source, target, _actor, how in ALLOWED:
            if source == state and how == method and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


FORBIDDEN_FOR = {"pickup": {"out_for_delivery", "delivered"}, "delivery": {"ready_for_pickup", "collected"}}


# --- the table as a whole ------------------------------------------------------------------------------


def test_enums_name_exactly_the_specified_values() -> None:
    assert [status.value for status in Status] == STATUSES
    assert sorted(actor.value for actor in Actor) == ACTORS
    assert sorted(lifecycle.METHODS) == sorted(METHODS)


def test_status_names_match_the_stored_model() -> None:
    from chalicelib.order import models

    assert {models.PENDING_PAYMENT, models.PAID, models.CANCELLED} <= set(STATUSES)
    assert models.EXPIRY_PARTITION.endswith("#" + Status.PENDING_PAYMENT + "#{shard}")


def test_table_is_well_typed() -> None:
    for (source, target), rule in lifecycle.TRANSITIONS.items():
        assert type(source) is Status and type(target) is Status
        assert type(rule) is Rule and rule.actors and all(type(actor) is Actor for actor in rule.actors)
        assert rule.method in (None, "pickup", "delivery")


def test_rule_is_frozen() -> None:
    rule = lifecycle.TRANSITIONS[(Status.PAID, Status.PREPARING)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.needs_pickup_code = True  # type: ignore[misc]


def test_only_collecting_needs_the_pickup_code() -> None:
    coded = {(str(s), str(t)) for (s, t), rule in lifecycle.TRANSITIONS.items() if rule.needs_pickup_code}
    assert coded == NEEDS_CODE == {("ready_for_pickup", "collected")}


# --- check(): every cell ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "actor", "method"), list(itertools.product(STATUSES, STATUSES, ACTORS, METHODS))
)
def test_check_allows_exactly_the_listed_moves(current: str, target: str, actor: str, method: str) -> None:
    for pickup_code_ok in (False, True):
        if (current, target, actor, method) not in ALLOWED:
            with pytest.raises(IllegalTransition) as caught:
                lifecycle.check(current, target, Actor(actor), method, pickup_code_ok=pickup_code_ok)
            error = caught.value
            assert isinstance(error, Conflict)
            assert error.code == "illegal_transition"
            assert error.details == {
                "current": current,
                "target": target,
                "allowed": expected_next(current, actor, method),
            }
            assert (error.current, error.target, error.allowed) == (current, target, error.details["allowed"])
        elif (current, target) in NEEDS_CODE and not pickup_code_ok:
            with pytest.raises(PickupCodeRequired):
                lifecycle.check(current, target, Actor(actor), method, pickup_code_ok=pickup_code_ok)
        else:
            rule = lifecycle.check(current, target, Actor(actor), method, pickup_code_ok=pickup_code_ok)
            assert rule is lifecycle.TRANSITIONS[(Status(current), Status(target))]
            assert Actor(actor) in rule.actors
            assert rule.needs_pickup_code is ((current, target) in NEEDS_CODE)


@pytest.mark.parametrize(("current", "actor", "method"), list(itertools.product(STATUSES, ACTORS, METHODS)))
def test_next_statuses_lists_what_this_actor_may_do(current: str, actor: str, method: str) -> None:
    result = lifecycle.next_statuses(current, Actor(actor), method)
    assert result == expected_next(current, actor, method)
    assert all(type(status) is str for status in result)  # plain strings serialize the same everywhere


@pytest.mark.parametrize(
    ("current", "method", "buttons"),
    [
        ("pending_payment", "pickup", []),
        ("paid", "pickup", ["cancelled", "preparing"]),
        ("preparing", "pickup", ["cancelled", "ready_for_pickup"]),
        ("preparing", "delivery", ["cancelled", "out_for_delivery"]),
        ("ready_for_pickup", "pickup", ["cancelled", "collected"]),
        ("out_for_delivery", "delivery", ["delivered"]),
        ("collected", "pickup", []),  # refunds go through the refund service, not a status button
        ("delivered", "delivery", []),
        ("cancelled", "pickup", []),
    ],
)
def test_retailer_buttons(current: str, method: str, buttons: list[str]) -> None:
    assert lifecycle.next_statuses(current, Actor.RETAILER, method) == buttons


# --- pickup code -------------------------------------------------------------------------------------


def test_collecting_without_a_verified_code_is_unprocessable() -> None:
    with pytest.raises(PickupCodeRequired) as caught:
        lifecycle.check("ready_for_pickup", "collected", Actor.RETAILER, "pickup")
    assert isinstance(caught.value, Unprocessable)
    assert caught.value.code == "pickup_code_required"
    assert lifecycle.check("ready_for_pickup", "collected", Actor.RETAILER, "pickup", pickup_code_ok=True)


@pytest.mark.parametrize("actor", [Actor.CUSTOMER, Actor.SYSTEM])
def test_a_code_does_not_help_an_actor_who_may_not_collect(actor: Actor) -> None:
    # The authority check comes first: a wrong code must not be what an unauthorised caller learns.
    for pickup_code_ok in (False, True):
        with pytest.raises(IllegalTransition):
            lifecycle.check("ready_for_pickup", "collected", actor, "pickup", pickup_code_ok=pickup_code_ok)


def test_a_delivery_cannot_be_collected_even_with_a_code() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.check("ready_for_pickup", "collected", Actor.RETAILER, "delivery", pickup_code_ok=True)


# --- special statuses ---------------------------------------------------------------------------------


def test_terminal_states_only_exit_to_refund_statuses_by_the_system() -> None:
    assert {str(s) for s in lifecycle.TERMINAL} == {
        "collected",
        "delivered",
        "cancelled",
        "refunded",
        "partially_refunded",
    }
    for source, target, actor, _method in ALLOWED:
        if source in lifecycle.TERMINAL:
            assert target in {"refunded", "partially_refunded"} and actor == "system"
    for status, actor, method in itertools.product(lifecycle.TERMINAL, ACTORS, METHODS):
        exits = lifecycle.next_statuses(status, Actor(actor), method)
        assert set(exits) <= {"refunded", "partially_refunded"}
        if actor != "system":
            assert exits == []
    assert not any(lifecycle.next_statuses("refunded", Actor(actor), m) for actor in ACTORS for m in METHODS)


def test_every_open_state_can_still_finish() -> None:
    for status, method in itertools.product(STATUSES, METHODS):
        if status not in lifecycle.TERMINAL and status not in FORBIDDEN_FOR[method]:
            assert reachable_from(status, method) & lifecycle.TERMINAL, (status, method)


def test_customer_cancellable_and_handed_over() -> None:
    customer_can_cancel = {
        source
        for source, target, actor, _method in ALLOWED
        if target == "cancelled" and actor == "customer" and source != "pending_payment"
    }
    assert lifecycle.CUSTOMER_CANCELLABLE == customer_can_cancel == {"paid", "preparing"}
    assert {"collected", "delivered"} == lifecycle.HANDED_OVER
    assert lifecycle.HANDED_OVER <= lifecycle.TERMINAL


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "partially_refunded"])
def test_staying_in_the_same_status_is_not_a_move(status: str) -> None:
    for actor, method in itertools.product(ACTORS, METHODS):
        with pytest.raises(IllegalTransition):
            lifecycle.check(status, status, Actor(actor), method, pickup_code_ok=True)


def test_a_second_partial_refund_is_a_move() -> None:
    rule = lifecycle.check("partially_refunded", "partially_refunded", Actor.SYSTEM, "delivery")
    assert rule.actors == {Actor.SYSTEM}


# --- bad input -----------------------------------------------------------------------------------------


def test_unknown_target_from_a_request_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition) as caught:
        lifecycle.check("paid", "shipped", Actor.RETAILER, "pickup")
    assert caught.value.details == {
        "current": "paid",
        "target": "shipped",
        "allowed": ["cancelled", "preparing"],
    }


@pytest.mark.parametrize(
    ("current", "actor", "method"),
    [("lost", "retailer", "pickup"), ("paid", "courier", "pickup"), ("paid", "retailer", "drone")],
)
def test_unknown_stored_values_are_bugs(current: str, actor: str, method: str) -> None:
    with pytest.raises(ValueError):
        lifecycle.check(current, "cancelled", actor, method)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        lifecycle.next_statuses(current, actor, method)  # type: ignore[arg-type]


def test_plain_strings_work_as_actor_and_status() -> None:
    rule = lifecycle.check(Status.PAID, "preparing", "retailer", "pickup")  # type: ignore[arg-type]
    assert rule.actors == {Actor.RETAILER}


def test_error_details_are_json_safe() -> None:
    with pytest.raises(IllegalTransition) as caught:
        lifecycle.check(Status.DELIVERED, Status.PAID, Actor.RETAILER, "delivery")
    assert json.loads(json.dumps(caught.value.details)) == {
        "current": "delivered",
        "target": "paid",
        "allowed": [],
    }
    assert "delivered" in caught.value.message and "paid" in caught.value.message


def test_the_domain_modules_import_only_the_standard_library() -> None:
    probe = (
        "import sys; before = set(sys.modules); "
        "import chalicelib.order.lifecycle, chalicelib.shop.slots; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = done.stdout.split()
    outside = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        # The platform's build settings, which sysconfig loads under a platform-specific name.
        and not name.startswith(("chalicelib", "_sysconfigdata_"))
    ]
    assert outside == []
    assert {name for name in loaded if name.startswith("chalicelib")} <= {
        "chalicelib",
        "chalicelib.core",
        "chalicelib.core.errors",
        "chalicelib.order",
        "chalicelib.order.lifecycle",
        "chalicelib.shop",
        "chalicelib.shop.hours",
        "chalicelib.shop.slots",
    }


# --- random walks ---------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(method=st.sampled_from(METHODS), data=st.data())
def test_random_walks_from_paid_stay_on_the_map(method: str, data: st.DataObject) -> None:
    reachable = reachable_from("paid", method)
    state = "paid"
    for _ in range(10):
        actor = data.draw(st.sampled_from(ACTORS), label="actor")
        # Sometimes an arbitrary target, to check refusals on the way too.
        target = data.draw(st.sampled_from(STATUSES), label="target")
        legal = lifecycle.next_statuses(state, Actor(actor), method)
        if target not in legal:
            with pytest.raises(IllegalTransition):
                lifecycle.check(state, target, Actor(actor), method, pickup_code_ok=True)
            if not legal:
                continue
            target = data.draw(st.sampled_from(legal), label="legal target")
        lifecycle.check(state, target, Actor(actor), method, pickup_code_ok=True)
        state = target
        assert state in reachable
        assert state not in FORBIDDEN_FOR[method]
    assert state in reachable


def test_reachable_sets_per_method() -> None:
    assert reachable_from("paid", "pickup") == {
        "paid",
        "preparing",
        "ready_for_pickup",
        "collected",
        "cancelled",
        "refunded",
        "partially_refunded",
    }
    assert reachable_from("paid", "delivery") == {
        "paid",
        "preparing",
        "out_for_delivery",
        "delivered",
        "cancelled",
        "refunded",
        "partially_refunded",
    }
