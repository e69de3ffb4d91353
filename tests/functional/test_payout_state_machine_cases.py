"""Sequences the payout state machine (test_payout_state_machine.py) found, replayed rule by rule as plain
tests, with the books checked after every step as the machine checks them. The clock, ids and Stripe are
pinned (payout_support.Pinned), so each sequence reaches the same payouts on every run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payout_support import Pinned
from test_payout_state_machine import PayoutMachine

from chalicelib.payout import models as po
from chalicelib.payout.models import ReversalItem


def test_first_reversals_of_two_payouts_refused_and_made_are_told_apart(api: Any, monkeypatch: Any) -> None:
    """Two payouts of the bakery each reversed once against its debt: Stripe refused one reversal (nothing
    moved) and made the other. Both are REVERSAL#0001 (a reversal's number is per payout); the machine
    once looked Stripe's answer up by that sort key alone, so one read the other's and books right to the
    cent failed its check (it failed once in a full-suite run)."""
    machine = PayoutMachine(api, Pinned(monkeypatch))
    bakery = machine.ids["bakery"]

    def step(rule: Callable[..., None], **arguments: Any) -> None:
        rule(**arguments)
        machine.books_balance()

    def bank_returns(payout_id: str) -> None:
        # The rule picks by place among the payouts at the bank: pick this one.
        at_bank = [p.payout_id for p in machine.at_bank(po.IN_TRANSIT, po.PAID)]
        step(machine.bank_answers, pick=at_bank.index(payout_id), paid=False)

    step(machine.start_from, start="sent back")  # the bakery's first payout is back on its Stripe balance
    (first,) = [p.payout_id for p in machine.seen if p.shop_id == bakery]
    step(machine.checkout_and_pay, units=(3, 2, 0), now=True)
    step(machine.pay, shop="bakery", who="schedule")  # the first to the bank again, and a second payout
    (second,) = [p.payout_id for p in machine.seen if p.shop_id == bakery and p.payout_id != first]
    bank_returns(second)
    step(machine.refund, pick=0, part=None)  # the first order's bread and cake, paid out: a debt
    step(machine.stripe_fails, method="reverse_transfer", fault="refused", shop="bakery")  # from the second
    bank_returns(first)
    step(machine.pay, shop="bakery", who="schedule")  # from the first: made, the debt cleared

    of, _ = machine.check_all()
    reversals = sorted((r.payout_id, r.sk, r.status) for r in of[ReversalItem])
    assert reversals == sorted([(second, "REVERSAL#0001", "failed"), (first, "REVERSAL#0001", "succeeded")])
    machine.teardown()
