"""Deploy (or redeploy) a stage's API: the one command after `python -m tools.deploy_stack`, and the only one
a code change needs.

    python -m tools.deploy_api --stage prod

1. writes the bytecode the package ships (tools/bytecode.py), so what `chalice deploy` uploads compiles
   nothing on a cold start, however much code changed since the last run;
2. runs `chalice deploy --stage <stage>` (this virtualenv's chalice, from the project root, its output
   shown as it comes); if it fails, stops there with its exit code;
3. writes API Gateway's own answers (no route, throttling, other 4xx and 5xx) in the API's error shape
   again: `chalice deploy` imports the API definition in overwrite mode, which resets them every time. The
   stack `digital-mall-<stage>` gets the REST API from .chalice/deployed/<stage>.json and a new
   ApiRevision (its conditional AWS::ApiGateway::GatewayResponse resources), keeping the operator's
   AlarmEmail and WithCdn, then a new API deployment publishes them (README, "Deploying", step 4).

The stack must exist first (`python -m tools.deploy_stack --stage <stage>`): the Lambda reads its names
from .chalice/config.json, which that command writes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools import deploy_stack

ROOT = deploy_stack.ROOT
# The virtualenv's chalice: the one installed with requirements-dev.txt next to this Python, whichever
# chalice the operator's PATH finds first.
CHALICE = Path(sys.executable).parent / "chalice"


def require_stack(cloudformation: Any, stage: str) -> None:
    """Refuses before anything is built or deployed when the stage has no stack yet: `chalice deploy`
    would deploy a Lambda whose config still holds placeholders instead of the stack's names."""
    name = deploy_stack.stack_name(stage)
    try:
        cloudformation.describe_stacks(StackName=name)
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
        raise SystemExit(
            f"there is no stack {name} yet: run python -m tools.deploy_stack --stage {stage} first"
        ) from None


def chalice_deploy(chalice: Sequence[str], stage: str, root: Path, region: str | None) -> int:
    """Runs `<chalice> deploy --stage <stage>` in `root`; returns its exit code. Its output goes straight
    to the operator's terminal (a deploy takes minutes: nothing is buffered)."""
    environment = dict(os.environ)
    if region:
        # The region the stack is updated in afterwards: both halves must reach the same API.
        environment["AWS_DEFAULT_REGION"] = region
    command = [*chalice, "deploy", "--stage", stage]
    try:
        return subprocess.run(command, cwd=root, env=environment, check=False).returncode
    except FileNotFoundError:
        raise SystemExit(
            f"no {chalice[0]}: install the tools first (.venv/bin/pip install -r requirements-dev.txt)"
        ) from None


def publish_gateway_responses(
    session: Any, stage: str, root: Path = ROOT, config: Path = deploy_stack.CONFIG
) -> str:
    """Writes the gateway responses onto the REST API `chalice deploy` just made, then publishes them;
    returns the API's id. As tools/deploy_stack.py does when that API exists."""
    api_id = deploy_stack.rest_api_id(stage, root)
    if not api_id:
        deployed = root / ".chalice" / "deployed" / f"{stage}.json"
        raise SystemExit(f"chalice deploy left no REST API in {deployed}: the gateway responses have no API")
    stage_variables = _stage_variables(config, stage)
    # No operator parameters given: deploy() keeps the stack's AlarmEmail and WithCdn as they are.
    outputs = deploy_stack.deploy(session.client("cloudformation"), stage, api_id)
    written = deploy_stack.write_names(outputs, stage, config)
    changed = sorted(k for k, v in written.items() if stage_variables.get(k) != v)
    if changed:
        # The template changed since deploy_stack last ran: the Lambda just deployed has the old names.
        print(
            f"the stack's names changed ({', '.join(changed)}): the Lambda was deployed with the old ones;"
            f" run python -m tools.deploy_api --stage {stage} again",
            file=sys.stderr,
        )
    # API Gateway serves a deployment, not the API's current definition.
    session.client("apigateway").create_deployment(restApiId=api_id, stageName="api")
    return api_id


def _stage_variables(config: Path, stage: str) -> dict[str, str]:
    stages = json.loads(config.read_text())["stages"]
    return dict(stages.get(stage, {}).get("environment_variables", {}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", help="default: your AWS configuration's region")
    # Hidden, for the tests: another config file, project root and chalice command (shell words).
    parser.add_argument("--config", type=Path, default=deploy_stack.CONFIG, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--chalice", type=shlex.split, default=[str(CHALICE)], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    import boto3

    from tools import bytecode

    session = boto3.session.Session(region_name=args.region)
    require_stack(session.client("cloudformation"), args.stage)
    bytecode.main([])
    code = chalice_deploy(args.chalice, args.stage, args.root, args.region)
    if code != 0:
        print(
            f"chalice deploy --stage {args.stage} failed (exit {code}): the stack and API Gateway's answers"
            f" were left as they were; fix the cause, then run python -m tools.deploy_api --stage"
            f" {args.stage} again",
            file=sys.stderr,
        )
        raise SystemExit(code)
    api_id = publish_gateway_responses(session, args.stage, args.root, args.config)
    print(f"gateway responses published on REST API {api_id}")


if __name__ == "__main__":
    main()
