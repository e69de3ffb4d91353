"""`python -m bench.metrics`: what Powertools Metrics adds to a cold start, in fresh interpreters.

Each run imports the logger and the settings first (`chalicelib.core.log`: the Powertools package, paid
with or without metrics; `chalicelib.core.config`, which app.py imports anyway), then the metrics helper
and the middleware (`chalicelib.core.metrics`, `chalicelib.core.invocation`), creates the Metrics object
and flushes a first invocation's metrics (two EMF lines), timing each step and listing the modules the
second step loads. Twice: from the virtualenv (bytecode cached) and as the deployment package runs (no
bytecode: `-B` with an empty PYTHONPYCACHEPREFIX, so everything compiles from source). Also reported:
what the Powertools package's own import spends on its metrics subpackage (`-X importtime`), already paid
by the Logger import because the package's `__init__` imports it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "metrics.json"
ENV = {
    "STAGE": "local",
    "TABLE_NAME": "digital-mall-local",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "IMAGE_BUCKET": "digital-mall-local-images-123456789012",
    "PAYOUT_QUEUE_NAME": "digital-mall-local-payouts",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

_CHILD = """
import contextlib, io, json, sys, time
t0 = time.perf_counter()
import chalicelib.core.log
import chalicelib.core.config  # app.py imports it before any metric: not the metrics' cost
t1 = time.perf_counter()
before = set(sys.modules)
import chalicelib.core.invocation
from chalicelib.core import metrics
t2 = time.perf_counter()
metrics.metrics()
t3 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    metrics.count("OrdersPlaced")
    metrics.count("CheckoutRefused", reason="stock")
    metrics.flush()
t4 = time.perf_counter()
print(json.dumps({
    "logger_ms": (t1 - t0) * 1000,
    "metrics_modules_ms": (t2 - t1) * 1000,
    "create_ms": (t3 - t2) * 1000,
    "first_flush_ms": (t4 - t3) * 1000,
    "loaded": sorted(set(sys.modules) - before),
}))
"""


def _child(no_bytecode: bool) -> dict[str, Any]:
    env = {**os.environ, **ENV}
    args = [sys.executable, "-c", _CHILD]
    with tempfile.TemporaryDirectory() as empty:
        if no_bytecode:
            env["PYTHONPYCACHEPREFIX"] = empty
            args.insert(1, "-B")
        done = subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _package_share() -> dict[str, float]:
    """Cumulative microseconds of the Powertools package and of its metrics subpackage within it."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import chalicelib.core.log"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] in ("aws_lambda_powertools", "aws_lambda_powertools.metrics"):
            found[parts[2]] = int(parts[1]) / 1000
    return found


def run(runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {"runs": runs}
    for mode, no_bytecode in (("venv", False), ("no_bytecode", True)):
        samples = [_child(no_bytecode) for _ in range(runs)]
        result[mode] = {
            key: round(statistics.median(s[key] for s in samples), 2)
            for key in ("logger_ms", "metrics_modules_ms", "create_ms", "first_flush_ms")
        }
        result[mode]["loaded"] = samples[0]["loaded"]
    shares = [_package_share() for _ in range(runs)]
    result["package_import_ms"] = round(statistics.median(s["aws_lambda_powertools"] for s in shares), 2)
    result["metrics_subpackage_ms"] = round(
        statistics.median(s["aws_lambda_powertools.metrics"] for s in shares), 2
    )
    return result


def table(result: dict[str, Any]) -> str:
    rows = [f"{'':<12} {'logger+config':>14} {'+metrics':>9} {'create':>7} {'1st flush':>9}   modules loaded"]
    for mode in ("venv", "no_bytecode"):
        r = result[mode]
        rows.append(
            f"{mode:<12} {r['logger_ms']:>12.1f}ms {r['metrics_modules_ms']:>7.2f}ms {r['create_ms']:>5.2f}ms"
            f" {r['first_flush_ms']:>7.2f}ms   {', '.join(r['loaded'])}"
        )
    rows.append(
        f"Powertools package import {result['package_import_ms']:.1f} ms, of which its metrics subpackage"
        f" {result['metrics_subpackage_ms']:.1f} ms (imported by the package itself, with Logger)"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.runs)
    print(table(result))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
