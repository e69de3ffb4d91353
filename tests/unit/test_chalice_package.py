"""`chalice package --stage prod` works as the README writes it: without AWS credentials, with only a region
in the environment (without one Chalice refuses), and the package reserves concurrency only where the
README says, so a fresh account's quota takes the stage. About 2 s once Chalice has cached the
dependencies in .chalice/deployments/, about 30 s on a first run (it downloads the Lambda's wheels)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()

# SAM logical id -> reserved concurrency in prod (.chalice/config.json), as README "Deploying" says.
PROD_RESERVED = {"APIHandler": 200, "ProcessImageUploads": 20, "RelayNotifications": 1}


def _package(out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Nothing to reach AWS with: packaging must not need it.
    env |= {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    chalice = Path(sys.executable).parent / "chalice"
    result = subprocess.run(
        [str(chalice), "package", "--stage", "prod", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "deployment.zip").stat().st_size > 0
    return json.loads((out / "sam.json").read_text())


def test_package_for_prod_with_only_a_region_and_reserve_only_what_needs_it(tmp_path: Path) -> None:
    template = _package(tmp_path / "out")

    functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    reserved = {
        logical_id: props["ReservedConcurrentExecutions"]
        for logical_id, props in functions.items()
        if "ReservedConcurrentExecutions" in props
    }
    # The scheduled, stream and queue functions draw from the unreserved pool (their concurrency is bounded
    # by their schedule, the stream's shards and the queues' maximum concurrency).
    assert reserved == PROD_RESERVED
    assert {"ExpireCheckoutHolds", "SweepPayouts", "PayShops", "RelistShops"} <= set(functions)
    total = sum(reserved.values())
    # README states the total and the quota it needs (AWS keeps 100 unreserved in every account).
    assert f"{total} reserved" in README
    assert f"at least {total + 100}" in README


def test_readme_package_commands_set_a_region() -> None:
    commands = re.findall(r"^.*bin/chalice package.*$", README, flags=re.MULTILINE)
    assert commands
    for command in commands:
        assert "AWS_DEFAULT_REGION=" in command, command
