"""Shared fixtures. Functional tests run the real app through chalice.test.Client against moto, with the
table and bucket created from infra/mall-stack.yaml by moto's CloudFormation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Set before anything creates a botocore client: tests never reach AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "STAGE": "test",
        "TABLE_NAME": "digital-mall-test",
        "IMAGE_BUCKET": "digital-mall-test-images-123456789012",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PAYMENT_GATEWAY": "simulated",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_not_a_real_secret",
        "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_test_connect_not_a_real_secret",
        "PAYOUT_QUEUE_NAME": "digital-mall-test-payouts",
    }
)
for _var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tools import aws_operations, moto_cfn, moto_patches  # noqa: E402

moto_patches.install()
# Least privilege, measured: every AWS operation app.py and chalicelib make (tools/aws_operations.py).
AWS_OPERATIONS = aws_operations.Recorder()
AWS_OPERATIONS.install()

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "mall-stack.yaml"


def deploy_stack(stage: str = "test") -> dict[str, str]:
    """Creates the stack from the production template; returns its outputs."""
    cloudformation = boto3.client("cloudformation")
    with moto_cfn.quiet_unsupported_resources():
        cloudformation.create_stack(
            StackName=f"digital-mall-{stage}",
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        )
    stack = cloudformation.describe_stacks(StackName=f"digital-mall-{stage}")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    # The upload -> queue notification moto's CloudFormation skips (tools/moto_cfn.py).
    moto_cfn.apply_bucket_notifications(f"digital-mall-{stage}", TEMPLATE.read_text(), "eu-west-1")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    with mock_aws():
        yield deploy_stack()


# --- least privilege: the code's AWS operations against .chalice/policy-*.json -----------------------------
_run: dict[str, set[str]] = {"collected": set(), "passed": set(), "deselected": set()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _run["collected"] = {item.nodeid for item in items}


def pytest_deselected(items: list[pytest.Item]) -> None:
    _run["deselected"] |= {item.nodeid for item in items}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _run["passed"].add(report.nodeid)


def _whole_functional_suite_passed(config: pytest.Config) -> bool:
    """Unexercised grants only count when every functional test ran and passed (no -k, -m, -x stop)."""
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests" / "functional").glob("test_*.py")}
    ran = {nodeid.split("::")[0] for nodeid in _run["passed"]}
    functional = {n for n in _run["collected"] if n.startswith("tests/functional/")}
    return files <= ran and functional <= _run["passed"] and not _run["deselected"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not any(n.startswith("tests/functional/") for n in _run["collected"]):
        return
    AWS_OPERATIONS.write(ROOT / "bench" / "results" / "aws-operations.json")
    problems = [
        f"{stage}: {op.role} role may not {op.action} on {resource}"
        for stage in ("prod", "dev")
        for op, resource in aws_operations.refused(AWS_OPERATIONS.operations, stage)
    ]
    if _whole_functional_suite_passed(session.config):
        problems += [
            f"{stage}: {role} role is granted {action}, which no code path exercised"
            for stage in ("prod", "dev")
            for role, action in aws_operations.unexercised(AWS_OPERATIONS.operations, stage)
        ]
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "least privilege (tools/aws_operations.py)", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
