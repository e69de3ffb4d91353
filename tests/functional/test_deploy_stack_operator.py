"""`python -m tools.deploy_stack --alarm-email ... --cdn`: the operator's two stack parameters (README,
"Alarms and the image CDN") are passed when given and kept on every later run (and by tools.deploy_api's
stack update after each `chalice deploy`): an update that left them out would fall back to the defaults,
dropping the alarm e-mail and deleting the CDN. On moto's CloudFormation, which cannot create
CloudFront: the CDN is checked on the parameters sent."""

from __future__ import annotations

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


def _parameters() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName="digital-mall-prod")["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def test_the_alarm_email_is_passed_then_kept_by_later_runs(config: Path) -> None:
    deploy_stack.main(["--stage", "prod", "--config", str(config), "--alarm-email", "ops@mall.example"])
    assert _parameters()["AlarmEmail"] == "ops@mall.example"

    deploy_stack.main(["--stage", "prod", "--config", str(config)])
    assert _parameters()["AlarmEmail"] == "ops@mall.example"
    assert _parameters()["WithCdn"] == "false"  # never asked for: the template's default


def test_operator_parameters_given_kept_or_defaulted() -> None:
    assert deploy_stack.operator_parameters({"WithCdn": "true"}, {}) == [
        {"ParameterKey": "WithCdn", "ParameterValue": "true"}
    ]
    # A stack made before these parameters existed has no previous value to keep: the default applies.
    assert deploy_stack.operator_parameters({}, {"Stage": "prod", "RestApiId": ""}) == []
    current = {"AlarmEmail": "old@b.example", "WithCdn": "true"}
    assert deploy_stack.operator_parameters({"AlarmEmail": "a@b.example"}, current) == [
        {"ParameterKey": "AlarmEmail", "ParameterValue": "a@b.example"},
        {"ParameterKey": "WithCdn", "ParameterValue": "true"},
    ]


def test_cdn_flag_reaches_the_stack_request(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, str]] = []
    real_deploy = deploy_stack.deploy

    def spy(cloudformation: object, stage: str, api_id: str, operator: dict[str, str]) -> dict[str, str]:
        sent.append(operator)
        return real_deploy(
            cloudformation, stage, api_id, {k: v for k, v in operator.items() if k != "WithCdn"}
        )

    monkeypatch.setattr(deploy_stack, "deploy", spy)
    deploy_stack.main(["--stage", "prod", "--config", str(config), "--cdn"])
    assert sent == [{"WithCdn": "true"}]
