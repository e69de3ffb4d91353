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
# Far above the ~0.2 s import on a developer machine: only a gross regression (or a hung import) fails.
IMPORT_BUDGET_SECONDS = 3.0

_CHILD = """
import json, sys, time
started = time.perf_counter()
import app
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def fresh_import() -> dict[str, Any]:
    # conftest.py has set the test stage's environment (and removed any AWS endpoint): the child inherits it.
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["stripe", "PIL", "boto3", "pydantic"])
def test_import_app_does_not_import(fresh_import: dict[str, Any], module: str) -> None:
    loaded = [m for m in fresh_import["modules"] if m == module or m.startswith(module + ".")]
    assert not loaded, f"`import app` imports {module} ({', '.join(loaded[:5])}): import it where it is used"


def test_import_app_is_fast_enough(fresh_import: dict[str, Any]) -> None:
    assert fresh_import["seconds"] < IMPORT_BUDGET_SECONDS, (
        f"`import app` took {fresh_import['seconds']:.2f} s (budget {IMPORT_BUDGET_SECONDS} s)"
    )
