"""infra/mall-stack.yaml beyond what moto can deploy: cfn-lint finds no error in it (moto skips the alarms
and cannot create CloudFront), every function of app.py, every dead-letter queue, the table and the app's
own failure metrics have an alarm to the one topic, the README explains each alarm, and the image CDN
reads only public/ of a bucket that stays private."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "infra" / "mall-stack.yaml"
TEMPLATE = yaml.safe_load(TEMPLATE_PATH.read_text())
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
ALARMS = {k: r["Properties"] for k, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
README = (ROOT / "README.md").read_text()


def _sub(value: Any) -> str:
    """The text of a `Fn::Sub` (or a plain string)."""
    return value["Fn::Sub"] if isinstance(value, dict) else value


def _function_names() -> set[str]:
    """The Lambda names `chalice deploy` gives app.py's functions, with the stage left as ${Stage}."""
    from app import app

    names = {f"digital-mall-${{Stage}}-{source.name}" for source in app.event_sources}
    names |= {f"digital-mall-${{Stage}}-{function.name}" for function in app.pure_lambda_functions}
    if app.routes:
        names.add("digital-mall-${Stage}")  # the API handler
    return names


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Each metric an alarm reads: the single one, or those of its metric math."""
    if "MetricName" in alarm:
        return [{k: alarm.get(k) for k in ("Namespace", "MetricName", "Dimensions")}]
    return [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]


def test_cfn_lint_finds_no_error() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--regions", "eu-west-1", "--", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alarm_notifies_the_one_topic_whose_email_is_a_parameter() -> None:
    topics = [k for k, r in RESOURCES.items() if r["Type"] == "AWS::SNS::Topic"]
    assert topics == ["AlarmTopic"]
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Condition"] == "HasAlarmEmail"
    assert len(ALARMS) >= 25
    for name, alarm in ALARMS.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_errors_and_throttles_of_every_function_of_app_py() -> None:
    covered: dict[str, set[str]] = {}
    for alarm in ALARMS.values():
        for metric in _metrics(alarm):
            if metric["Namespace"] == "AWS/Lambda":
                (dimension,) = metric["Dimensions"]
                assert dimension["Name"] == "FunctionName"
                covered.setdefault(_sub(dimension["Value"]), set()).add(metric["MetricName"])
    functions = _function_names()
    assert "digital-mall-${Stage}-relist_shops" in functions
    assert "digital-mall-${Stage}-relay_order_events" in functions
    assert covered == {name: {"Errors", "Throttles"} for name in functions}


def test_api_5xx_rate_of_the_chalice_api() -> None:
    alarm = ALARMS["Api5xxRateAlarm"]
    metrics = {m["MetricName"]: m for m in _metrics(alarm)}
    assert set(metrics) == {"5XXError", "Count"}
    for metric in metrics.values():
        assert metric["Namespace"] == "AWS/ApiGateway"
        assert metric["Dimensions"] == [
            {"Name": "ApiName", "Value": {"Ref": "ApiName"}},
            {"Name": "Stage", "Value": {"Ref": "ApiStageName"}},
        ]
    # Chalice names the REST API after the app and publishes it on the stage's api_gateway_stage.
    config = yaml.safe_load((ROOT / ".chalice" / "config.json").read_text())
    assert TEMPLATE["Parameters"]["ApiName"]["Default"] == config["app_name"]
    assert {s["api_gateway_stage"] for s in config["stages"].values()} == {
        TEMPLATE["Parameters"]["ApiStageName"]["Default"]
    }


def test_any_message_in_any_dead_letter_queue() -> None:
    dead_letter_queues = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    }
    assert len(dead_letter_queues) >= 3
    watched = set()
    for alarm in ALARMS.values():
        for metric in _metrics(alarm):
            if metric["Namespace"] == "AWS/SQS":
                assert metric["MetricName"] == "ApproximateNumberOfMessagesVisible"
                assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
                (dimension,) = metric["Dimensions"]
                watched.add(dimension["Value"]["Fn::GetAtt"][0])
    assert watched == dead_letter_queues


def test_dynamodb_throttling_of_the_table_and_its_indexes() -> None:
    seen: set[tuple[str, str]] = set()
    for alarm in ALARMS.values():
        for metric in _metrics(alarm):
            if metric["Namespace"] == "AWS/DynamoDB":
                dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
                assert dims.pop("TableName") == {"Ref": "MallTable"}
                seen.add((metric["MetricName"], dims.get("GlobalSecondaryIndexName", "")))
    indexes = [i["IndexName"] for i in RESOURCES["MallTable"]["Properties"]["GlobalSecondaryIndexes"]]
    for index in ["", *indexes]:
        assert {("ReadThrottleEvents", index), ("WriteThrottleEvents", index)} <= seen
    assert ("ThrottledRequests", "") in seen


@pytest.mark.parametrize("metric_name", ["PaymentProviderErrors", "WebhookDeliveriesFailed"])
def test_the_apps_own_failure_metrics(metric_name: str) -> None:
    (alarm,) = [a for a in ALARMS.values() if a.get("MetricName") == metric_name]
    assert alarm["Namespace"] == "DigitalMall"
    # Powertools Metrics adds `service` (POWERTOOLS_SERVICE_NAME) to the stage dimension the app sets.
    config = yaml.safe_load((ROOT / ".chalice" / "config.json").read_text())
    assert alarm["Dimensions"] == [
        {"Name": "service", "Value": config["environment_variables"]["POWERTOOLS_SERVICE_NAME"]},
        {"Name": "stage", "Value": {"Ref": "Stage"}},
    ]


def test_readme_says_what_each_alarm_means() -> None:
    section = README.split("\n## Alarms and the image CDN\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for alarm in ALARMS.values():
        name = _sub(alarm["AlarmName"]).replace("${Stage}", "<stage>")
        # Function alarms share one row per metric, which names every function.
        generic = re.sub(r"^(digital-mall-<stage>-).*-(errors|throttles)$", r"\1<function>-\2", name)
        matching = [row for row in rows if f"`{name}`" in row or f"`{generic}`" in row]
        assert matching, f"README, Alarms: no row for {name}"
        assert all(row.count("|") >= 4 for row in matching)
    for function in _function_names():
        short = function.removeprefix("digital-mall-${Stage}").lstrip("-").replace("_", "-") or "api-handler"
        assert f"`{short}`" in section, short


def test_cdn_reads_only_public_of_the_private_bucket() -> None:
    blocked = RESOURCES["ImageBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(blocked[k] is True for k in blocked) and len(blocked) == 4
    cdn = ["ImageOriginAccessControl", "ImageDistribution", "ImageBucketPolicy"]
    assert all(RESOURCES[k]["Condition"] == "CdnEnabled" for k in cdn)
    (origin,) = RESOURCES["ImageDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ImageOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["ImageBucket", "RegionalDomainName"]}
    # public_url() appends the whole key (public/...) to IMAGE_BASE_URL: no origin path.
    assert "OriginPath" not in origin
    (statement,) = RESOURCES["ImageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert _sub(statement["Resource"]) == "${ImageBucket.Arn}/public/*"
    assert _sub(statement["Condition"]["StringEquals"]["AWS:SourceArn"]).endswith(
        ":distribution/${ImageDistribution}"
    )
    output = TEMPLATE["Outputs"]["ImageBaseUrl"]
    assert output["Condition"] == "CdnEnabled"
    assert _sub(output["Value"]) == "https://${ImageDistribution.DomainName}"
    # Real deploys ask for it (README); moto, which cannot create it, deploys the default.
    assert TEMPLATE["Parameters"]["WithCdn"]["Default"] == "false"
    assert "WithCdn=true" in README


def test_the_web_apps_are_served_from_a_private_bucket_only_their_distribution_reads() -> None:
    blocked = RESOURCES["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(blocked[k] is True for k in blocked) and len(blocked) == 4
    web = ["WebBucket", "WebOriginAccessControl", "WebDistribution", "WebBucketPolicy"]
    assert all(RESOURCES[k]["Condition"] == "CdnEnabled" for k in web)
    config = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert config["DefaultRootObject"] == "storefront/index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    (statement,) = RESOURCES["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Principal"]) == (
        "s3:GetObject",
        {"Service": "cloudfront.amazonaws.com"},
    )
    assert _sub(statement["Condition"]["StringEquals"]["AWS:SourceArn"]).endswith(
        ":distribution/${WebDistribution}"
    )
    assert _sub(TEMPLATE["Outputs"]["WebUrl"]["Value"]) == "https://${WebDistribution.DomainName}"
    assert "WebBucketName" in TEMPLATE["Outputs"]
