"""`make bench` (`python -m bench`): DynamoDB calls and latency per catalog request, then cold start.

Prints the tables and a compact summary, and writes every figure to bench/results/latest.json.
`python -m bench --only catalog` or `--only coldstart` runs one half; `--repeats`/`--runs` size them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=("catalog", "coldstart"))
    parser.add_argument("--repeats", type=int, default=50, help="requests per endpoint (default 50)")
    parser.add_argument("--runs", type=int, default=7, help="cold starts of each kind (default 7)")
    args = parser.parse_args(argv)

    # bench.catalog.run() sets the environment before it imports chalicelib (MallItem reads it at import).
    from bench import catalog, coldstart

    # A partial run (--only) keeps the other half of the previous results.
    report: dict[str, Any] = _previous() if args.only else {}
    report |= {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    if args.only in (None, "catalog"):
        print(
            f"DynamoDB calls per request (in process, moto mock_aws, demo mall; {args.repeats} requests each)"
        )
        print("budget: a product or shop read = 1 call, a list/search page <= 2; '+1' = the API key lookup")
        rows = catalog.run(args.repeats)
        report["catalog"] = rows
        print(catalog.table(rows))
        print(
            "items = items DynamoDB evaluates (and bills); RCU~ = read units estimated from item sizes;"
            " app = the request minus time inside DynamoDB calls (moto)\n",
            flush=True,
        )
    failed = False
    if args.only in (None, "coldstart"):
        try:
            result = coldstart.run(args.runs)
            report["coldstart"] = result
            print("Cold start (moto server on loopback)")
            print(coldstart.table(result) + "\n", flush=True)
            profile = coldstart.import_profile()
            report["imports"] = profile
            print(coldstart.import_table(profile) + "\n")
        except Exception as exc:  # keep what the catalog half measured
            failed = True
            report.pop("coldstart", None)
            report.pop("imports", None)
            print(f"Cold start FAILED: {exc}\n", file=sys.stderr, flush=True)

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print("Summary")
    for line in summary(report):
        print(f"  {line}")
    shown = RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS
    print(f"  (all figures: {shown})")
    return 1 if failed else 0


def _previous() -> dict[str, Any]:
    try:
        previous = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}
    return previous if isinstance(previous, dict) else {}


def summary(report: dict[str, Any]) -> list[str]:
    lines = []
    rows = report.get("catalog")
    if rows:
        budgeted = [r for r in rows if r["budget"] is not None]
        over = [
            f"{r['method']} {r['path']} ({r['calls']} > {r['budget']})"
            for r in budgeted
            if r["verdict"] != "PASS"
        ]
        lines.append(
            f"calls: {len(budgeted) - len(over)}/{len(budgeted)} reads within budget"
            + (f"; OVER: {', '.join(over)}" if over else "")
        )
        writes = [f"{r['method']} {r['path']} = {r['calls']}" for r in rows if r["budget"] is None]
        lines.append("writes (no budget): " + "; ".join(writes))
        slowest = max(rows, key=lambda r: r["app_p50_ms"])
        lines.append(
            f"app time per request (excl. DynamoDB): p50 max {slowest['app_p50_ms']:.1f} ms"
            f" ({slowest['method']} {slowest['path']})"
        )
    cold = report.get("coldstart")
    if cold:
        a, b = cold["baseline"], cold["app"]
        lines.append(
            f"cold start: A {a['wall_ms_median']:.0f} ms, B {b['wall_ms_median']:.0f} ms, "
            f"B/A = {cold['ratio']:.2f} (target <= {cold['target_ratio']}) {cold['verdict']}"
            f" [best-of-N {cold['ratio_min']:.2f}, paired {cold['ratio_paired_median']:.2f}]; "
            f"to response: A {a['response_ms_median']:.0f} ms, B {b['response_ms_median']:.0f} ms, "
            f"B/A = {cold['ratio_to_response']:.2f}"
        )
    imports = report.get("imports")
    if imports:
        top = ", ".join(f"{p['package']} {p['ms']:.0f}" for p in imports["by_package"][:6])
        extra = ", ".join(f"{p['package']} {p['ms']:.0f}" for p in imports["beyond_baseline"][:6])
        lines.append(
            f"import app: {imports['total_ms']:.0f} ms, {imports['modules_imported']} modules; {top} (ms)"
        )
        lines.append(
            f"import app beyond the baseline's imports: {imports['beyond_baseline_ms']:.0f} ms; {extra} (ms)"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
