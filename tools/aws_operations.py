"""Least privilege, measured: records every AWS operation the deployed code (app.py, chalicelib/) makes while
the tests run, as the IAM actions and resources AWS would authorise it as, and checks each against the stage's
policy in .chalice/.

Recording hooks botocore's events on every client (PynamoDB's, the S3/SQS/SSM ones chalicelib creates):
`provide-client-params` sees each API call and presigned URL with its parameters; `before-sign` sees a
presigned POST (S3 authorises the upload as s3:PutObject on the key). A call counts as the code's when a
frame of app.py or chalicelib/ is on the stack; the tests' own setup calls (creating the stack, reading S3)
do not. The function a call is made for (the image processor has its own role) is the outermost app.py
handler on the stack, or chalicelib/images/processing.py when a test drives the processor directly.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODE = (str(ROOT / "chalicelib") + "/", str(ROOT / "app.py"))
PROCESSING = str(ROOT / "chalicelib" / "images" / "processing.py")
# The functions with their own role (.chalice/config.json lambda_functions.<name>.iam_policy_file).
OWN_ROLE = {"process_image_uploads": "images"}
TEST_ACCOUNT, TEST_REGION, TEST_STAGE = "123456789012", "eu-west-1", "test"


@dataclass(frozen=True, order=True)
class Operation:
    """One authorisation AWS would make: `role` is "api" (the stage's policy) or "images"."""

    role: str
    action: str
    resource: str


# Grants no code path calls: each is used by AWS on the role's behalf. Anything else granted but never
# exercised by a full functional run fails it (tools/aws_operations.unexercised).
PLATFORM_GRANTS: dict[str, str] = {
    "logs:CreateLogGroup": "Lambda writes the function's logs with the role",
    "logs:CreateLogStream": "Lambda writes the function's logs with the role",
    "logs:PutLogEvents": "Lambda writes the function's logs with the role",
    "dynamodb:DescribeStream": "the stream event source mapping (relay_order_events) polls with the role",
    "dynamodb:GetRecords": "the stream event source mapping (relay_order_events) polls with the role",
    "dynamodb:GetShardIterator": "the stream event source mapping (relay_order_events) polls with the role",
    "dynamodb:ListStreams": "the stream event source mapping (relay_order_events) polls with the role",
    "sqs:ReceiveMessage": "the SQS event source mappings receive with the role",
    "sqs:DeleteMessage": "the SQS event source mappings delete handled messages with the role",
    "sqs:GetQueueAttributes": "the SQS event source mappings read the queue's attributes with the role",
    "sqs:ChangeMessageVisibility": "the SQS event source mapping returns a failed message with the role",
    "xray:PutTraceSegments": "Lambda active tracing sends the function's trace segments with the role",
    "xray:PutTelemetryRecords": "Lambda active tracing sends the function's trace segments with the role",
    "s3:ListBucket": "S3 answers a read of a missing key 404, not 403, only to a role that may list the"
    " bucket: the image function tells an upload already processed and deleted from a refusal",
    "kms:Decrypt": "SSM decrypts the SecureString Stripe secrets with the caller's role (kms:ViaService ssm)",
}

# Operations AWS authorises as another action (or several).
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "DeleteObjects": "DeleteObject",
}
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_TRANSACT_ITEM = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def authorisations(
    service: str, operation: str, params: dict[str, Any], region: str
) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs AWS checks for one call; "*" when the resource is not worth modelling."""
    prefix = f"arn:aws:{service}:{region}:{TEST_ACCOUNT}"
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            pairs = []
            for item in params.get("TransactItems", []):
                ((kind, body),) = item.items()
                pairs.append((f"dynamodb:{_TRANSACT_ITEM[kind]}", f"{prefix}:table/{body['TableName']}"))
            return pairs
        if operation == "BatchWriteItem":
            return [
                (
                    f"dynamodb:{'PutItem' if 'PutRequest' in request else 'DeleteItem'}",
                    f"{prefix}:table/{table}",
                )
                for table, requests in params.get("RequestItems", {}).items()
                for request in requests
            ]
        if operation == "BatchGetItem":
            return [("dynamodb:BatchGetItem", f"{prefix}:table/{table}") for table in params["RequestItems"]]
        resource = f"{prefix}:table/{params['TableName']}" if "TableName" in params else "*"
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    if service == "s3":
        action = f"s3:{_S3_ACTIONS.get(operation, operation)}"
        bucket = f"arn:aws:s3:::{params.get('Bucket', '*')}"
        if operation == "DeleteObjects":
            return [(action, f"{bucket}/{o['Key']}") for o in params.get("Delete", {}).get("Objects", [])]
        if operation == "CopyObject":
            source = params["CopySource"]
            source = source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"
            return [
                ("s3:GetObject", f"arn:aws:s3:::{source.lstrip('/')}"),
                ("s3:PutObject", f"{bucket}/{params['Key']}"),
            ]
        return [(action, f"{bucket}/{params['Key']}" if "Key" in params else bucket)]
    if service == "sqs":
        name = params.get("QueueName") or str(params.get("QueueUrl", "*")).rstrip("/").rsplit("/", 1)[-1]
        return [(f"sqs:{_SQS_BATCH.get(operation, operation)}", f"{prefix}:{name}")]
    if service == "ssm" and "Name" in params:
        return [(f"ssm:{operation}", f"{prefix}:parameter{params['Name']}")]
    if service == "events" and operation == "PutEvents":
        buses = {e.get("EventBusName", "default") for e in params.get("Entries", [])}
        return [("events:PutEvents", f"{prefix}:event-bus/{bus}") for bus in sorted(buses)]
    return [(f"{service}:{operation}", "*")]


def _caller_role() -> str | None:
    """The role the call on this stack is made with, or None when no deployed code is on the stack."""
    frame: Any = sys._getframe(1)
    handler, processing, ours = None, False, False
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(CODE):
            ours = True
            if filename == CODE[1]:
                handler = frame.f_code.co_name  # the outermost app.py frame wins: keep overwriting
            elif filename == PROCESSING:
                processing = True
        frame = frame.f_back
    if not ours:
        return None
    if handler in OWN_ROLE:
        return OWN_ROLE[handler]
    # A test driving the processor directly (no handler on the stack) calls it as the image function does.
    return "images" if processing and handler is None else "api"


class Recorder:
    """Collects the code's operations from every botocore client created after `install()`."""

    def __init__(self) -> None:
        self.operations: set[Operation] = set()
        self.calls = 0

    def install(self) -> None:
        """Every botocore client created from now on, whoever creates it, reports to this recorder."""
        _patch_create_client()
        _recorders.append(self)

    def uninstall(self) -> None:
        _recorders.remove(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"role": o.role, "action": o.action, "resource": o.resource} for o in sorted(self.operations)]
        path.write_text(json.dumps({"calls": self.calls, "operations": rows}, indent=1) + "\n")


_recorders: list[Recorder] = []


def _patch_create_client() -> None:
    import botocore.session

    original = botocore.session.Session.create_client
    if getattr(original, "_aws_operations", False):
        return

    def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(session, *args, **kwargs)
        client.meta.events.register("provide-client-params", _on_params)
        client.meta.events.register("before-sign.s3", _on_sign)
        return client

    create_client._aws_operations = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def _on_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if not _recorders or (context.get("is_presign_request") and model.name == "CreateBucket"):
        return  # a presigned POST is recorded at signing, where its key is known
    _record(model.service_model.signing_name, model.name, params)


def _on_sign(request: Any, **_: Any) -> None:
    fields = request.context.get("s3-presign-post-fields")
    if fields is None or not _recorders:
        return
    conditions = request.context["s3-presign-post-policy"]["conditions"]
    bucket = next(c["bucket"] for c in conditions if isinstance(c, dict) and "bucket" in c)
    _record("s3", "PutObject", {"Bucket": bucket, "Key": fields["key"]})


def _record(service: str, operation: str, params: dict[str, Any]) -> None:
    role = _caller_role()
    if role is None:
        return
    found = {Operation(role, a, r) for a, r in authorisations(service, operation, params, TEST_REGION)}
    for recorder in _recorders:
        recorder.calls += 1
        recorder.operations |= found


# --- checking against the policies -------------------------------------------------------------------------


def policy(stage: str, role: str) -> dict[str, Any]:
    name = f"policy-{stage}.json" if role == "api" else f"policy-{role}-{stage}.json"
    return json.loads((ROOT / ".chalice" / name).read_text())


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in _listed(document["Statement"]):  # type: ignore[arg-type]
        # Only what these policies use; a Deny or NotAction would need real evaluation logic.
        unsupported = {"NotAction", "NotResource", "Principal"} & set(statement)
        assert statement["Effect"] == "Allow" and not unsupported, statement
        yield statement


def _in_stage(resource: str, stage: str) -> str:
    """The test stage's resource as the deployed stage names it (same template, other stage and account)."""
    return resource.replace(f"digital-mall-{TEST_STAGE}", f"digital-mall-{stage}").replace(
        f"/digital-mall/{TEST_STAGE}/", f"/digital-mall/{stage}/"
    )


def allowed(document: dict[str, Any], action: str, resource: str) -> bool:
    for statement in _statements(document):
        actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def refused(operations: Iterable[Operation], stage: str) -> list[tuple[Operation, str]]:
    """Each recorded operation the stage's policy for its role does not allow, with the ARN checked."""
    out = []
    for op in sorted(operations):
        resource = _in_stage(op.resource, stage)
        if not allowed(policy(stage, op.role), op.action, resource):
            out.append((op, resource))
    return out


def unexercised(operations: Iterable[Operation], stage: str) -> list[tuple[str, str]]:
    """(role, action) granted by the stage's policies that no recorded operation used, platform grants aside.

    Measured per action: a resource pattern wider than the calls made (table/x/index/* for three indexes)
    is not reported."""
    used = {(op.role, op.action.lower()) for op in operations}
    out = []
    for role in ("api", *sorted(set(OWN_ROLE.values()))):
        for statement in _statements(policy(stage, role)):
            for action in _listed(statement["Action"]):
                if action in PLATFORM_GRANTS or (role, action.lower()) in used:
                    continue
                out.append((role, action))
    return sorted(set(out))


# --- the figures, for the benchmark and the README ---------------------------------------------------------

RESULTS = ROOT / "bench" / "results" / "aws-operations.json"


def load(path: Path = RESULTS) -> tuple[int, set[Operation]]:
    data = json.loads(path.read_text())
    return int(data["calls"]), {Operation(**row) for row in data["operations"]}


def summary(calls: int, operations: set[Operation]) -> str:
    actions = sorted({(op.role, op.action) for op in operations})
    lines = [
        f"{calls} AWS calls by app.py/chalicelib in the last functional run: {len(actions)} distinct"
        f" (role, action) pairs on {len({op.resource for op in operations})} resources"
    ]
    for stage in ("prod", "dev"):
        refusals = refused(operations, stage)
        lines.append(f"{stage}: {len(operations) - len(refusals)} of {len(operations)} operations allowed")
        lines += [f"  REFUSED {op.role} {op.action} on {resource}" for op, resource in refusals]
        lines += [
            f"  granted, never exercised: {role} {action}" for role, action in unexercised(operations, stage)
        ]
    lines.append("granted for AWS to use on the role's behalf (no code path calls them):")
    lines += [f"  {action}: {why}" for action, why in PLATFORM_GRANTS.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(*load()))
