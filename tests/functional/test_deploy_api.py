"""`python -m tools.deploy_api --stage <stage>`: bytecode, then `chalice deploy`, then API Gateway's own
answers written again onto the API it made (the stack's RestApiId and a new ApiRevision) and published, on
moto's CloudFormation and API Gateway. `chalice deploy` is a stub script that records how it was called
and writes .chalice/deployed/<stage>.json into a temporary project root, as chalice does; the bytecode
step only records its turn (building it takes seconds and writes vendor/)."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools import bytecode, deploy_api, deploy_stack, moto_cfn

ROOT = Path(__file__).resolve().parent.parent.parent

STUB = """\
import json, os, sys
from pathlib import Path

with open({log!r}, "a") as log:
    log.write(json.dumps({{"chalice": sys.argv[1:], "cwd": os.getcwd(),
                          "region": os.environ.get("AWS_DEFAULT_REGION")}}) + "\\n")
if {api_id!r}:
    deployed = Path(".chalice", "deployed")
    deployed.mkdir(parents=True, exist_ok=True)
    resources = [{{"resource_type": "rest_api", "rest_api_id": {api_id!r}, "name": "rest_api"}}]
    (deployed / (sys.argv[-1] + ".json")).write_text(json.dumps({{"resources": resources}}))
sys.exit({exit_code})
"""


class Project:
    """A temporary project root with a copy of .chalice/config.json, a stub chalice and the log of what
    ran, in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / ".chalice" / "config.json"
        self.config.parent.mkdir(parents=True)
        shutil.copy(ROOT / ".chalice" / "config.json", self.config)
        self.log = root / "ran.jsonl"
        self.log.touch()

    def chalice(self, api_id: str = "", exit_code: int = 0) -> str:
        """The --chalice command of a stub that deploys `api_id` (none if empty) and exits `exit_code`."""
        stub = self.root / "chalice_stub.py"
        stub.write_text(STUB.format(log=str(self.log), api_id=api_id, exit_code=exit_code))
        return shlex.join([sys.executable, str(stub)])

    def ran(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def args(self, chalice: str, stage: str = "prod") -> list[str]:
        paths = ["--config", str(self.config), "--root", str(self.root)]
        return ["--stage", stage, *paths, "--chalice", chalice]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    project = Project(tmp_path)

    def record_bytecode(argv: list[str]) -> None:
        with project.log.open("a") as log:
            log.write(json.dumps({"bytecode": argv}) + "\n")

    monkeypatch.setattr(bytecode, "main", record_bytecode)
    with mock_aws(), moto_cfn.quiet_unsupported_resources(), warnings.catch_warnings():
        # moto's CloudFormation skips the gateway responses with this warning: the tests check the
        # parameters that write them (RestApiId, ApiRevision) and the API deployment that publishes them.
        warnings.filterwarnings(
            "ignore", message="Tried to parse AWS::ApiGateway::GatewayResponse", category=UserWarning
        )
        yield project


def _stack_before_the_api(project: Project) -> None:
    """What `python -m tools.deploy_stack --stage prod --alarm-email ...` leaves: the stack without an API."""
    outputs = deploy_stack.deploy(
        boto3.client("cloudformation"), "prod", "", {"AlarmEmail": "ops@mall.example"}
    )
    deploy_stack.write_names(outputs, "prod", project.config)


def _rest_api() -> str:
    """A REST API with one integrated method, which moto needs before it makes a deployment."""
    apigateway = boto3.client("apigateway")
    api_id = apigateway.create_rest_api(name="digital-mall")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    return api_id


def _parameters() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName="digital-mall-prod")["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def test_bytecode_then_chalice_deploy_then_the_gateway_responses_on_its_api(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack_before_the_api(project)
    names = project.config.read_text()
    api_id = _rest_api()

    deploy_api.main(project.args(project.chalice(api_id)))

    assert project.ran() == [
        {"bytecode": []},
        {"chalice": ["deploy", "--stage", "prod"], "cwd": str(project.root), "region": "eu-west-1"},
    ]
    parameters = _parameters()
    assert parameters["RestApiId"] == api_id
    assert parameters["ApiRevision"] != "none" and parameters["ApiRevision"].isdigit()
    # The operator's choices survive the update that carries the API.
    assert parameters["AlarmEmail"] == "ops@mall.example"
    assert parameters["WithCdn"] == "false"
    apigateway = boto3.client("apigateway")
    deployments = apigateway.get_deployments(restApiId=api_id)["items"]
    assert len(deployments) == 1
    assert apigateway.get_stage(restApiId=api_id, stageName="api")["deploymentId"] == deployments[0]["id"]
    assert project.config.read_text() == names  # the same stack, the same names
    captured = capsys.readouterr()
    assert f"gateway responses published on REST API {api_id}" in captured.out
    assert "names changed" not in captured.err


def test_a_failing_chalice_deploy_stops_with_its_code_and_leaves_the_stack(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack_before_the_api(project)
    api_id = _rest_api()  # even with an API left behind by the failed deploy

    with pytest.raises(SystemExit) as stopped:
        deploy_api.main(project.args(project.chalice(api_id, exit_code=1)))

    assert stopped.value.code == 1
    assert "chalice deploy --stage prod failed (exit 1)" in capsys.readouterr().err
    assert [next(iter(step)) for step in project.ran()] == ["bytecode", "chalice"]
    parameters = _parameters()
    assert (parameters["RestApiId"], parameters["ApiRevision"]) == ("", "none")
    assert boto3.client("apigateway").get_deployments(restApiId=api_id)["items"] == []


def test_without_a_stack_it_refuses_and_deploys_nothing(project: Project) -> None:
    config = project.config.read_text()

    with pytest.raises(SystemExit, match=r"no stack digital-mall-prod.*python -m tools\.deploy_stack"):
        deploy_api.main(project.args(project.chalice(_rest_api())))

    assert project.ran() == []  # neither the bytecode nor chalice
    assert project.config.read_text() == config
    assert boto3.client("cloudformation").describe_stacks()["Stacks"] == []


def test_a_deploy_that_left_no_api_is_refused(project: Project) -> None:
    _stack_before_the_api(project)

    with pytest.raises(SystemExit, match="left no REST API"):
        deploy_api.main(project.args(project.chalice()))

    assert _parameters()["RestApiId"] == ""


def test_the_region_asked_for_is_the_one_chalice_deploys_to(project: Project) -> None:
    command = shlex.split(project.chalice(exit_code=3))
    assert deploy_api.chalice_deploy(command, "dev", project.root, "us-east-2") == 3
    assert project.ran() == [
        {"chalice": ["deploy", "--stage", "dev"], "cwd": str(project.root), "region": "us-east-2"}
    ]
