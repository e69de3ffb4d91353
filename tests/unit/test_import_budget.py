"""Cold start budget of the API Lambda: what `import app` may pull in, checked in a fresh interpreter.

The Lambda pays every import on each cold start. Heavy libraries that only some requests need (payments,
image processing, validation frameworks) must be imported inside the code that uses them, and the API
needs only botocore (through PynamoDB), never boto3. `make bench` measures the cold start in detail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What `import app` adds beyond the framework it cannot do without (Chalice, PynamoDB with botocore, msgspec),
# as a multiple of that framework's own import, timed back to back in one fresh interpreter: machine load
# slows both alike, so the ratio holds on a busy 2-core CI where seconds do not. Measured 0.7-0.9 (on 2
# cores at load 7); an app whose own imports grow by half (Stripe at module level does) fails.
MAX_RATIO_TO_FRAMEWORK = 1.25
RUNS = 5

_CHILD = """
import json, sys, time
started = time.perf_counter()
import chalice, msgspec, pynamodb.models
framework = time.perf_counter()
import app
done = time.perf_counter()
print(json.dumps({"framework": framework - started, "app": done - framework, "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def fresh_imports() -> list[dict[str, Any]]:
    # conftest.py has set the test stage's environment (and removed any AWS endpoint): the child inherits it.
    runs = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


@pytest.fixture(scope="module")
def fresh_import(fresh_imports: list[dict[str, Any]]) -> dict[str, Any]:
    return fresh_imports[0]


@pytest.mark.parametrize("module", ["stripe", "PIL", "boto3", "pydantic"])
def test_import_app_does_not_import(fresh_import: dict[str, Any], module: str) -> None:
    loaded = [m for m in fresh_import["modules"] if m == module or m.startswith(module + ".")]
    assert not loaded, f"`import app` imports {module} ({', '.join(loaded[:5])}): import it where it is used"


def test_import_app_costs_at_most_a_ratio_of_its_framework(fresh_imports: list[dict[str, Any]]) -> None:
    ratios = sorted(run["app"] / run["framework"] for run in fresh_imports)
    median = ratios[len(ratios) // 2]
    seconds = ", ".join(f"{r['app']:.2f} s after {r['framework']:.2f} s" for r in fresh_imports)
    assert median <= MAX_RATIO_TO_FRAMEWORK, (
        f"`import app` costs {median:.2f}x its framework's import"
        f" (at most {MAX_RATIO_TO_FRAMEWORK}): {seconds}"
    )
