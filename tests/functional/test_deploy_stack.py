"""`python -m tools.deploy_stack --stage <stage>`: the stack from infra/mall-stack.yaml, then the stage's
names written from its outputs into (a copy of) .chalice/config.json, on moto's CloudFormation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools import deploy_stack, moto_cfn

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "config.json"
    shutil.copy(ROOT / ".chalice" / "config.json", copy)
    with mock_aws(), moto_cfn.quiet_unsupported_resources():
        yield copy


def _outputs(stage: str) -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=f"digital-mall-{stage}")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_one_command_deploys_the_stack_and_leaves_no_placeholder(
    config: Path, stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = json.loads(config.read_text())
    deploy_stack.main(["--stage", stage, "--config", str(config)])

    after = json.loads(config.read_text())
    variables = after["stages"][stage]["environment_variables"]
    outputs = _outputs(stage)
    written = json.dumps(after["stages"][stage])
    assert "ACCOUNT_ID" not in written and "STREAM_LABEL" not in written
    assert variables["TABLE_NAME"] == outputs["TableName"] == f"digital-mall-{stage}"
    assert variables["TABLE_STREAM_ARN"] == outputs["TableStreamArn"]
    assert variables["IMAGE_BUCKET"] == outputs["ImageBucketName"]
    assert variables["IMAGE_QUEUE_NAME"] == outputs["ImageUploadQueueName"]
    assert variables["PAYOUT_QUEUE_NAME"] == outputs["PayoutQueueName"]
    assert variables["RELIST_QUEUE_NAME"] == outputs["RelistQueueName"]
    # Only the names change: other stages, settings and variables stay as they were.
    assert {k: v for k, v in after["stages"].items() if k != stage} == {
        k: v for k, v in before["stages"].items() if k != stage
    }
    changed = {
        k for k, v in variables.items() if before["stages"][stage]["environment_variables"].get(k) != v
    }
    assert changed <= set(deploy_stack.NAMES) | set(deploy_stack.OPTIONAL_NAMES)
    assert f"IMAGE_BUCKET={outputs['ImageBucketName']}" in capsys.readouterr().out


def test_running_it_again_updates_the_same_stack(config: Path) -> None:
    deploy_stack.main(["--stage", "prod", "--config", str(config)])
    first = config.read_text()
    deploy_stack.main(["--stage", "prod", "--config", str(config)])
    assert config.read_text() == first
    assert len(boto3.client("cloudformation").list_stacks()["StackSummaries"]) == 1


def test_a_missing_output_or_unknown_stage_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "config.json"
    shutil.copy(ROOT / ".chalice" / "config.json", copy)
    before = copy.read_text()
    with pytest.raises(SystemExit, match="TableStreamArn"):
        deploy_stack.write_names({"TableName": "t"}, "prod", copy)
    outputs = {output: "x" for output in deploy_stack.NAMES.values()}
    with pytest.raises(SystemExit, match="unknown stage"):
        deploy_stack.write_names(outputs, "staging", copy)
    assert copy.read_text() == before


def test_after_chalice_deploy_the_stack_gets_the_rest_api(tmp_path: Path) -> None:
    deployed = tmp_path / ".chalice" / "deployed"
    deployed.mkdir(parents=True)
    assert deploy_stack.rest_api_id("prod", tmp_path) == ""
    resources = [{"resource_type": "rest_api", "rest_api_id": "abc123", "name": "rest_api"}]
    (deployed / "prod.json").write_text(json.dumps({"resources": resources}))
    assert deploy_stack.rest_api_id("prod", tmp_path) == "abc123"
