"""Deploy a stage's stateful stack and write its names into .chalice/config.json: no placeholders to edit.

    python -m tools.deploy_stack --stage prod

Creates or updates the CloudFormation stack `digital-mall-<stage>` from infra/mall-stack.yaml (with your
AWS credentials and region), waits for it, then writes the stage's resource names from the stack's outputs
into the stage's `environment_variables` (table, its stream, image bucket and queues, and IMAGE_BASE_URL
when the stack has a CDN). Run it once per stage and again when the template changes; then
`python -m tools.deploy_api --stage <stage>` builds the bytecode, runs `chalice deploy` and writes API
Gateway's own answers onto the API it made (README, "Deploying"). Once that API exists
(.chalice/deployed/<stage>.json), this passes it to the stack too and publishes a new API deployment: an
update without it would delete those answers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "mall-stack.yaml"
CONFIG = ROOT / ".chalice" / "config.json"

# config.json environment variable <- stack output. IMAGE_BASE_URL only when the stack has a CDN.
NAMES = {
    "TABLE_NAME": "TableName",
    "TABLE_STREAM_ARN": "TableStreamArn",
    "IMAGE_BUCKET": "ImageBucketName",
    "IMAGE_QUEUE_NAME": "ImageUploadQueueName",
    "PAYOUT_QUEUE_NAME": "PayoutQueueName",
    "RELIST_QUEUE_NAME": "RelistQueueName",
}
OPTIONAL_NAMES = {"IMAGE_BASE_URL": "ImageBaseUrl"}
PLACEHOLDERS = ("ACCOUNT_ID", "STREAM_LABEL")
# The operator's choices (README, "Alarms and the image CDN"): given on the command line, else kept from the
# stack. A parameter left out of an update falls back to its default: no alarm e-mail, the CDN deleted.
OPERATOR_PARAMETERS = ("AlarmEmail", "WithCdn")


def stack_name(stage: str) -> str:
    return f"digital-mall-{stage}"


def rest_api_id(stage: str, root: Path = ROOT) -> str:
    """The REST API `chalice deploy` created for the stage, or "" before the first one."""
    deployed = root / ".chalice" / "deployed" / f"{stage}.json"
    if not deployed.exists():
        return ""
    resources = json.loads(deployed.read_text())["resources"]
    return str(next((r["rest_api_id"] for r in resources if r["resource_type"] == "rest_api"), ""))


def operator_parameters(given: dict[str, str], previous: dict[str, str]) -> list[dict[str, str]]:
    """AlarmEmail / WithCdn as given, else the stack's current value if it has one, else the default.
    The value itself rather than UsePreviousValue, which moto refuses for a value left at its default."""
    chosen = {key: given.get(key, previous.get(key)) for key in OPERATOR_PARAMETERS}
    return [
        {"ParameterKey": key, "ParameterValue": value} for key, value in chosen.items() if value is not None
    ]


def deploy(
    cloudformation: Any, stage: str, api_id: str, operator: dict[str, str] | None = None
) -> dict[str, str]:
    """Creates or updates the stack; returns its outputs. A template with no change is not an error."""
    name = stack_name(stage)
    parameters = [
        {"ParameterKey": "Stage", "ParameterValue": stage},
        {"ParameterKey": "RestApiId", "ParameterValue": api_id},
        # A new revision each run with an API: `chalice deploy` resets gateway responses every time.
        {"ParameterKey": "ApiRevision", "ParameterValue": str(int(time.time())) if api_id else "none"},
    ]
    request = {
        "StackName": name,
        "TemplateBody": TEMPLATE.read_text(),
        "Parameters": parameters,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    try:
        previous = cloudformation.describe_stacks(StackName=name)["Stacks"][0].get("Parameters", [])
        exists = True
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
        previous, exists = [], False
    current = {p["ParameterKey"]: p["ParameterValue"] for p in previous}
    parameters += operator_parameters(operator or {}, current)
    if not exists:
        cloudformation.create_stack(**request)
        cloudformation.get_waiter("stack_create_complete").wait(StackName=name)
    else:
        try:
            cloudformation.update_stack(**request)
            cloudformation.get_waiter("stack_update_complete").wait(StackName=name)
        except cloudformation.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def write_names(outputs: dict[str, str], stage: str, config_path: Path = CONFIG) -> dict[str, str]:
    """Sets the stage's names from the outputs (only those keys: the rest of the file is untouched);
    returns what was written. Refuses to leave a placeholder behind."""
    missing = [output for output in NAMES.values() if output not in outputs]
    if missing:
        raise SystemExit(f"the stack has no output {', '.join(missing)}: is infra/mall-stack.yaml deployed?")
    names = {variable: outputs[output] for variable, output in NAMES.items()}
    names |= {variable: outputs[output] for variable, output in OPTIONAL_NAMES.items() if output in outputs}
    config = json.loads(config_path.read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"unknown stage {stage!r}; known: {', '.join(sorted(config['stages']))}")
    variables = config["stages"][stage].setdefault("environment_variables", {})
    variables.update(names)
    left = [k for k, v in variables.items() if any(p in str(v) for p in PLACEHOLDERS)]
    if left:
        raise SystemExit(f"placeholders left in {', '.join(left)} of stage {stage}")
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", help="default: your AWS configuration's region")
    parser.add_argument(
        "--alarm-email", help="where the stage's alarms go (kept from the last run if omitted)"
    )
    cdn = parser.add_mutually_exclusive_group()
    cdn.add_argument(
        "--cdn", dest="cdn", action="store_const", const="true", help="images through CloudFront"
    )
    cdn.add_argument("--no-cdn", dest="cdn", action="store_const", const="false", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=CONFIG, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    operator = {"AlarmEmail": args.alarm_email, "WithCdn": args.cdn}

    import boto3

    session = boto3.session.Session(region_name=args.region)
    api_id = rest_api_id(args.stage)
    given = {key: value for key, value in operator.items() if value is not None}
    outputs = deploy(session.client("cloudformation"), args.stage, api_id, given)
    for variable, value in write_names(outputs, args.stage, args.config).items():
        print(f"{variable}={value}")
    if api_id:
        # Publishes the gateway responses the stack just wrote (API Gateway serves a deployment).
        session.client("apigateway").create_deployment(restApiId=api_id, stageName="api")
        print(f"gateway responses published on REST API {api_id}")


if __name__ == "__main__":
    main()
