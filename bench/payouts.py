"""`python -m bench.payouts`: the payout sweep at mall scale, in process over moto.

N shops (default 10,000), each onboarded (simulated Stripe), due today, with 20 available ledger entries
(10 handed-over orders: a sale and its commission each). The sweep finds them by key and queues one
message per shop (collected in memory here); then each message is processed as the worker Lambda would
(`process_shop`). Reported: wall time of the sweep and of the runs, DynamoDB calls per shop by operation
(exact, counted at botocore), estimated capacity units, Stripe calls per shop, and the extrapolation to
100,000 shops at Stripe's live write rate with the worker concurrency that gives it.

moto time is not DynamoDB time: the counts are exact, the extrapolation uses assumed service latencies
(stated in the output) rather than moto's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.catalog import TEMPLATE, CallCounter, _configure_env

RESULTS = Path(__file__).resolve().parent / "results" / "payouts.json"
ENTRIES_PER_SHOP = 20
# Assumptions for the extrapolation (AWS, same region): a DynamoDB call ~10 ms, a Stripe write ~300 ms.
DYNAMODB_MS, STRIPE_WRITE_MS = 10.0, 300.0
STRIPE_LIVE_WRITES_PER_S = 100
# Leave a fifth of Stripe's write budget to checkouts and refunds running meanwhile.
STRIPE_BUDGET_WRITES_PER_S = 80


def _seed(shops: int) -> list[str]:
    """Accounts, simulated connected accounts and ledger entries, written in batches (setup, uncounted)."""
    from chalicelib.core.clock import iso, now, stamp
    from chalicelib.ledger.models import UNSETTLED, LedgerEntryItem
    from chalicelib.payment.models import SimulatedObject
    from chalicelib.payout.accounts import due_actions, mall_today
    from chalicelib.payout.models import ACTIVE, PayoutAccountItem

    moment = now() - timedelta(days=10)
    available = stamp(moment + timedelta(days=7))
    ids = []
    with PayoutAccountItem.batch_write() as batch:
        for n in range(shops):
            shop_id, account_id = f"shop_bench{n:010d}", f"acct_simbench{n:010d}"
            ids.append(shop_id)
            account = PayoutAccountItem(
                *PayoutAccountItem.key_for(shop_id),
                shop_id=shop_id,
                stripe_account_id=account_id,
                country="BE",
                status=ACTIVE,
                created_at=iso(moment),
                updated_at=iso(moment),
            )
            due_actions(account, mall_today())
            batch.save(account)
            batch.save(
                SimulatedObject(
                    *SimulatedObject.key_for("account", account_id),
                    object_id=account_id,
                    balance=0,
                    data={
                        "country": "BE",
                        "shop_id": shop_id,
                        "details_submitted": True,
                        "charges_enabled": True,
                        "payouts_enabled": True,
                        "transfers": "active",
                        "currently_due": [],
                        "disabled_reason": None,
                        "deauthorized": False,
                    },
                )
            )
            for order in range(ENTRIES_PER_SHOP // 2):
                order_id = f"ord_bench{n:07d}{order:03d}"
                at = stamp(moment + timedelta(minutes=order))
                for kind, amount in (("sale", 1000 + 137 * order), ("commission", -(80 + 11 * order))):
                    sk = f"{at}#{kind}#{order_id}"
                    batch.save(
                        LedgerEntryItem(
                            f"LEDGER#{shop_id}",
                            sk,
                            shop_id=shop_id,
                            entry_type=kind,
                            amount_cents=amount,
                            order_id=order_id,
                            source_id=order_id,
                            at=at,
                            available_at=available,
                            gsi1pk=UNSETTLED.format(shop=shop_id),
                            gsi1sk=f"{available}#{sk}",
                        )
                    )
    return ids


class CountingGateway:
    """The simulated gateway, counting the Stripe calls the worker makes and keeping the simulator's own
    storage out of the DynamoDB count (it stands for Stripe's)."""

    def __init__(self, counter: CallCounter) -> None:
        from chalicelib.payment.simulated_gateway import SimulatedGateway

        self._inner, self._counter = SimulatedGateway(), counter
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            self._counter._suspended = True
            try:
                return method(*args, **kwargs)
            finally:
                self._counter._suspended = False

        return call


def run(shops: int) -> dict[str, Any]:
    _configure_env()
    import boto3
    from moto import mock_aws

    from tools import moto_cfn, moto_patches

    moto_patches.install(indexed_queries=True)
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        with moto_cfn.quiet_unsupported_resources():
            cloudformation.create_stack(
                StackName="digital-mall-bench",
                TemplateBody=TEMPLATE.read_text(),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": "bench"}],
            )
        from chalicelib.payment import gateway as provider
        from chalicelib.payout.sweep import sweep
        from chalicelib.payout.worker import process_shop

        started = time.perf_counter()
        _seed(shops)
        seeded_s = time.perf_counter() - started

        counter = CallCounter(measure_capacity=True)
        gateway = CountingGateway(counter)
        provider.gateway = lambda: gateway  # type: ignore[assignment]
        messages: list[dict[str, str]] = []
        with counter.installed():
            started = time.perf_counter()
            result = sweep(send=messages.extend)
            sweep_s = time.perf_counter() - started
            sweep_calls = counter.reset()
            per_shop: list[float] = []
            ops: Counter[str] = Counter()
            read_units = write_units = 0.0
            started = time.perf_counter()
            for message in messages:
                begun = time.perf_counter()
                run = process_shop(message["shop_id"], "schedule")
                per_shop.append((time.perf_counter() - begun) * 1000)
                assert run.outcome == "paid", run
                for call in counter.reset():
                    ops[call.operation] += 1
                    read_units += call.read_units
                    # Transactional writes cost 2 units per item under 1 KB; a plain update or put 1.
                    write_units += 2 * call.items if call.operation == "TransactWriteItems" else 0
                    write_units += 1 if call.operation in ("UpdateItem", "PutItem") else 0
            runs_s = time.perf_counter() - started
    assert result.shops_due == shops == len(messages)
    stripe_per_shop = {name: count / shops for name, count in sorted(gateway.calls.items())}
    writes_per_shop = sum(v for k, v in stripe_per_shop.items() if k.startswith("create"))
    dynamodb_per_shop = {op: count / shops for op, count in sorted(ops.items())}
    calls_per_shop = sum(dynamodb_per_shop.values())
    # One worker, in AWS: its DynamoDB calls and Stripe writes in sequence.
    worker_ms = calls_per_shop * DYNAMODB_MS + writes_per_shop * STRIPE_WRITE_MS
    shops_per_s_per_worker = 1000 / worker_ms
    target = 100_000
    concurrency = max(1, int(STRIPE_BUDGET_WRITES_PER_S / (writes_per_shop * shops_per_s_per_worker)))
    at_concurrency = concurrency * shops_per_s_per_worker
    return {
        "shops": shops,
        "entries_per_shop": ENTRIES_PER_SHOP,
        "seed_s": round(seeded_s, 1),
        "sweep": {
            "wall_s": round(sweep_s, 2),
            "dynamodb_calls": Counter(c.operation for c in sweep_calls),
            "messages": len(messages),
        },
        "runs": {
            "wall_s": round(runs_s, 1),
            "ms_per_shop_median": round(statistics.median(per_shop), 1),
            "ms_per_shop_p95": round(sorted(per_shop)[int(len(per_shop) * 0.95) - 1], 1),
            "dynamodb_calls_per_shop": dynamodb_per_shop,
            "read_units_per_shop": round(read_units / shops, 2),
            "write_units_per_shop": round(write_units / shops, 2),
            "stripe_calls_per_shop": stripe_per_shop,
        },
        "extrapolation_100k": {
            "assumed_ms": {"dynamodb_call": DYNAMODB_MS, "stripe_write": STRIPE_WRITE_MS},
            "stripe_writes": int(target * writes_per_shop),
            "minutes_at_stripe_live_limit": round(
                target * writes_per_shop / STRIPE_LIVE_WRITES_PER_S / 60, 1
            ),
            "worker_ms_per_shop": round(worker_ms, 0),
            "concurrency_for_80_writes_per_s": concurrency,
            "minutes_at_that_concurrency": round(target / at_concurrency / 60, 1),
            "minutes_at_configured_concurrency_10": round(target / (10 * shops_per_s_per_worker) / 60, 1),
            "write_units": int(target * write_units / shops),
            "read_units": int(target * read_units / shops),
        },
    }


def table(result: dict[str, Any]) -> str:
    runs, extra, sweep = result["runs"], result["extrapolation_100k"], result["sweep"]
    calls = ", ".join(f"{op} {n:g}" for op, n in runs["dynamodb_calls_per_shop"].items())
    stripe = ", ".join(f"{op} {n:g}" for op, n in runs["stripe_calls_per_shop"].items())
    shops, per_shop = result["shops"], result["entries_per_shop"]
    return "\n".join(
        [
            f"shops {shops} x {per_shop} entries (seeded in {result['seed_s']} s)",
            f"sweep: {sweep['wall_s']} s, {sweep['messages']} messages,"
            f" DynamoDB {dict(sweep['dynamodb_calls'])}",
            f"runs: {runs['wall_s']} s in all, {runs['ms_per_shop_median']} ms per shop in moto"
            f" (p95 {runs['ms_per_shop_p95']})",
            f"per shop: DynamoDB {calls};"
            f" ~{runs['read_units_per_shop']} RCU, ~{runs['write_units_per_shop']} WCU",
            f"per shop: Stripe {stripe}",
            f"100,000 shops: {extra['stripe_writes']} Stripe writes ="
            f" {extra['minutes_at_stripe_live_limit']} min at {STRIPE_LIVE_WRITES_PER_S}/s",
            f"  a worker ~{extra['worker_ms_per_shop']:.0f} ms per shop (assuming {DYNAMODB_MS:g} ms per"
            f" DynamoDB call, {STRIPE_WRITE_MS:g} ms per Stripe write)",
            f"  {extra['concurrency_for_80_writes_per_s']} workers = {STRIPE_BUDGET_WRITES_PER_S} writes/s:"
            f" {extra['minutes_at_that_concurrency']} min; the configured 10 workers:"
            f" {extra['minutes_at_configured_concurrency_10']} min",
            f"  ~{extra['write_units']} WCU and ~{extra['read_units']} RCU in all",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.payouts", description=__doc__)
    parser.add_argument("--shops", type=int, default=10_000)
    args = parser.parse_args(argv)
    result = run(args.shops)
    print("Payout sweep (moto in process)")
    print(table(result))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=dict) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
