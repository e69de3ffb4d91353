"""Cold start: a fresh interpreter that serves one request, against a moto server on loopback.

Headline, as Lambda runs it: (B, deployed) the package `chalice package --stage prod` builds (what `chalice
deploy` uploads, with the bytecode tools/bytecode.py writes first, as tools.deploy_api does; every pyc
checked against its source), unzipped into a read-only directory and run with `python -B` and nothing
else on the path, app.py imported as the runtime's bootstrap imports a handler, `import app` + `GET
/products/{id}` to the response, against (A) below from the virtualenv. Target B/A <= 1.15
(TARGET_DEPLOYED).

(A) baseline: `import pynamodb.models`, a minimal model of the table, one GetItem of the product.
(B) app: `import app`, then one `GET /products/{id}` through `app.app(event, context)` with an API Gateway
    REST proxy event, as Lambda would call it.
Each is run N times, alternating A and B so that machine noise hits both alike, after one untimed warm-up
of each (bytecode caches and the OS page cache are warm, as for a Lambda with precompiled bytecode). The
figure compared is the parent's wall time for the whole subprocess: interpreter start to exit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.catalog import STAGE, TABLE_NAME, render

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "mall-stack.yaml"
RUNS = 7
TARGET_RATIO = 1.3
TARGET_DEPLOYED = 1.15
# Lambda's task directory: the package's root first, then the runtime's standard library; the
# virtualenv's site-packages are dropped so every import comes from the package.
_TASK_PATH = "import sys\nsys.path[:] = [sys.argv[2]] + [p for p in sys.path if 'site-packages' not in p]\n"

_BASELINE = """
import time
_t0 = time.perf_counter()
import json, os, sys
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

class Item(Model):
    class Meta:
        table_name = os.environ["TABLE_NAME"]
        region = os.environ["AWS_REGION"]

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

_t1 = time.perf_counter()
item = Item.get("PRODUCT#" + sys.argv[1], "PRODUCT")
_t2, _done = time.perf_counter(), time.time()
print(json.dumps({"import_ms": (_t1 - _t0) * 1000, "request_ms": (_t2 - _t1) * 1000, "done_epoch": _done,
                  "ok": item.pk == "PRODUCT#" + sys.argv[1], "modules": len(sys.modules)}))
"""

_APP = """
import time
_t0 = time.perf_counter()
import json, sys
app = load_handler_module("app")
_t1 = time.perf_counter()
product_id = sys.argv[1]
path = "/products/" + product_id
event = {
    "resource": "/products/{product_id}",
    "path": path,
    "httpMethod": "GET",
    "headers": {"accept": "application/json", "host": "api.example.com"},
    "multiValueHeaders": {"accept": ["application/json"], "host": ["api.example.com"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"product_id": product_id},
    "stageVariables": None,
    "requestContext": {
        "resourcePath": "/products/{product_id}",
        "httpMethod": "GET",
        "path": "/api" + path,
        "stage": "api",
        "requestId": "00000000-0000-0000-0000-000000000000",
        "identity": {"sourceIp": "127.0.0.1"},
    },
    "body": None,
    "isBase64Encoded": False,
}

class Context:
    function_name = "digital-mall-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:digital-mall-bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    log_group_name = "/aws/lambda/digital-mall-bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 15000

response = app.app(event, Context())
_t2, _done = time.perf_counter(), time.time()
body = json.loads(response["body"])
print(json.dumps({"import_ms": (_t1 - _t0) * 1000, "request_ms": (_t2 - _t1) * 1000, "done_epoch": _done,
                  "ok": response["statusCode"] == 200 and body.get("id") == product_id,
                  "status": response["statusCode"], "modules": len(sys.modules)}))
"""

# How the child imports app.py. From the virtualenv: a plain import. Deployed: as the Lambda runtime's
# bootstrap does (its main -> run -> _get_handler -> importlib.import_module), a few frames deep: on
# Python 3.11 the stack's depth when the imports run can change their cost (chalicelib/core/fresh_stack.py).
_PLAIN_IMPORT = "def load_handler_module(name):\n    return __import__(name)\n"
_RUNTIME_IMPORT = """
import importlib

def _get_handler(handler):
    module_name, _, function = handler.rpartition(".")
    return importlib.import_module(module_name.replace("/", "."))

def _run(app_root, handler, runtime_api):
    return _get_handler(handler)

def load_handler_module(name):
    return _run("/var/task", name + ".app", "127.0.0.1:9001")
"""

_SEED = """
import sys
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.catalog.schemas import ProductIn
from chalicelib.catalog.service import create_product
from chalicelib.core.validation import convert
from chalicelib.shop.schemas import ShopProfile
from chalicelib.shop.service import open_shop
from tools.demo_data import demo_products, demo_shops

shop = demo_shops()[0]
created = open_shop(convert({k: v for k, v in shop.items() if k != "key"}, ShopProfile, strict=True))
body = next(p for p in demo_products(shop["key"]) if p["variants"])
principal = Principal(Role.RETAILER, created.shop.id, True)
product = create_product(principal, convert(body, ProductIn, strict=True))
assert product.variants, "the product needs a variant"
print(product.id)
"""


def child_env(endpoint: str | None) -> dict[str, str]:
    """A clean Lambda-like environment: our stage, prod's log level, and moto as the AWS endpoint."""
    from tools.local_stack import aws_env

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.pop("POWERTOOLS_LOG_LEVEL", None)
    env.update(aws_env(endpoint or "http://127.0.0.1:9"))
    if endpoint is None:
        env.pop("AWS_ENDPOINT_URL")
    env.update(
        {
            "STAGE": STAGE,
            "TABLE_NAME": TABLE_NAME,
            "IMAGE_BUCKET": f"{TABLE_NAME}-images-123456789012",
            "POWERTOOLS_SERVICE_NAME": "digital-mall",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _run_child(
    script: str, args: list[str], env: dict[str, str], flags: tuple[str, ...] = (), cwd: Path = ROOT
) -> tuple[float, dict[str, Any]]:
    """Wall time of the whole subprocess (ms) and the child's report. The report gains `response_ms`: from
    launch to the moment the child had its answer, i.e. without interpreter teardown (same clock,
    time.time(), on both sides), which a Lambda never pays inside a request."""
    launched = time.time()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *flags, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if not report.get("ok", True):
        raise RuntimeError(f"child did not get its product: {report}\n{done.stderr[-3000:]}")
    report["response_ms"] = (report.pop("done_epoch") - launched) * 1000
    return wall, report


def _deploy_stack(endpoint: str) -> None:
    import boto3

    from tools import moto_cfn

    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    # As tests/conftest.py deploy_stack; the bucket notifications it adds next are not needed here.
    with moto_cfn.quiet_unsupported_resources():
        cloudformation.create_stack(
            StackName=f"digital-mall-{STAGE}",
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": STAGE}],
        )
    stack = cloudformation.describe_stacks(StackName=f"digital-mall-{STAGE}")["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack ended {stack['StackStatus']}")


def deployment_package(workdir: Path, stage: str = "prod") -> Path:
    """`chalice package --stage <stage>` (no credentials, a region only), unzipped into a read-only
    directory as Lambda's /var/task is. Call `writable(workdir)` before removing it."""
    import zipfile

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": os.devnull}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    chalice = Path(sys.executable).parent / "chalice"
    out, task = workdir / "out", workdir / "task"
    done = subprocess.run(
        [str(chalice), "package", "--stage", stage, str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chalice package failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    with zipfile.ZipFile(out / "deployment.zip") as package:
        package.extractall(task)
    for path in [task, *task.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return task


def writable(workdir: Path) -> None:
    for path in [workdir, *workdir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def package_contents(task: Path) -> dict[str, int]:
    sources = list(task.rglob("*.py"))
    compiled = {p.parent.parent / (p.name.split(".")[0] + ".py") for p in task.rglob("__pycache__/*.pyc")}
    return {"py_files": len(sources), "with_bytecode": sum(1 for p in sources if p in compiled)}


def run(runs: int = RUNS) -> dict[str, Any]:
    import logging
    import tempfile

    from moto.server import ThreadedMotoServer

    from tools import moto_patches
    from tools.local_stack import free_port

    moto_patches.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from tools import bytecode

    # What tools.deploy_api does before `chalice deploy`: the package ships bytecode for this Python.
    bytecode.build()
    workdir = Path(tempfile.mkdtemp(prefix="coldstart-"))
    task = deployment_package(workdir)
    contents = package_contents(task)
    stale = bytecode.stale(task)
    if stale:
        raise RuntimeError(f"the package's bytecode does not match its sources: {stale[:5]}")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        _deploy_stack(endpoint)
        env = child_env(endpoint)
        # The product goes in through the service layer, in a child: this process's PynamoDB connections
        # belong to the in-process benchmark.
        seeded = subprocess.run(
            [sys.executable, "-c", _SEED], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        product_id = seeded.stdout.strip().splitlines()[-1]

        deployed = (_TASK_PATH + _RUNTIME_IMPORT + _APP, [product_id, str(task)], ("-B", "-I"), task)
        kinds: dict[str, tuple[str, list[str], tuple[str, ...], Path]] = {
            "python": ('import json, time; print(json.dumps({"done_epoch": time.time()}))', [], (), ROOT),
            "baseline": (_BASELINE, [product_id], (), ROOT),
            "app": (_PLAIN_IMPORT + _APP, [product_id], (), ROOT),
            "deployed": deployed,
        }
        samples: dict[str, list[tuple[float, dict[str, Any]]]] = {kind: [] for kind in kinds}
        for script, args, flags, cwd in kinds.values():
            _run_child(script, args, env, flags, cwd)  # warm-up, not counted
        for _ in range(runs):
            for kind, (script, args, flags, cwd) in kinds.items():
                samples[kind].append(_run_child(script, args, env, flags, cwd))
    finally:
        server.stop()
        writable(workdir)
        shutil.rmtree(workdir, ignore_errors=True)

    def summary(kind: str) -> dict[str, Any]:
        walls = [wall for wall, _ in samples[kind]]
        reports = [report for _, report in samples[kind]]
        out: dict[str, Any] = {
            "wall_ms_median": round(statistics.median(walls), 1),
            "wall_ms_min": round(min(walls), 1),
            "wall_ms_max": round(max(walls), 1),
            "wall_ms": [round(w, 1) for w in walls],
            "response_ms_median": round(statistics.median(r["response_ms"] for r in reports), 1),
        }
        if "import_ms" in reports[0]:
            out["import_ms_median"] = round(statistics.median(r["import_ms"] for r in reports), 1)
            out["request_ms_median"] = round(statistics.median(r["request_ms"] for r in reports), 1)
            out["modules"] = reports[0]["modules"]
        return out

    result = {kind: summary(kind) for kind in kinds}
    result["runs"] = runs
    result["ratio"] = round(result["app"]["wall_ms_median"] / result["baseline"]["wall_ms_median"], 2)
    # Best of N: on a busy machine the minimum is the least disturbed run of each. Paired: A and B run
    # back to back, so the median of the per-round ratios cancels slow drifts in machine load.
    result["ratio_min"] = round(result["app"]["wall_ms_min"] / result["baseline"]["wall_ms_min"], 2)
    pairs = zip(result["app"]["wall_ms"], result["baseline"]["wall_ms"], strict=True)
    result["ratio_paired_median"] = round(statistics.median(b / a for b, a in pairs), 2)
    # The same ratio without interpreter teardown (about the same fixed cost in both, so it dilutes B/A).
    result["ratio_to_response"] = round(
        result["app"]["response_ms_median"] / result["baseline"]["response_ms_median"], 2
    )
    result["target_ratio"] = TARGET_RATIO
    result["verdict"] = "PASS" if result["ratio"] <= TARGET_RATIO else "OVER"
    # The headline: the deployed package, read-only, -B, to the response, against A from the virtualenv.
    result["package"] = contents
    result["ratio_deployed"] = round(
        result["deployed"]["response_ms_median"] / result["baseline"]["response_ms_median"], 2
    )
    result["target_deployed"] = TARGET_DEPLOYED
    result["verdict_deployed"] = "PASS" if result["ratio_deployed"] <= TARGET_DEPLOYED else "OVER"
    return result


# --- where the import time goes ---------------------------------------------------------------------


BASELINE_IMPORTS = "import pynamodb.models, pynamodb.attributes"


def import_profile(repeats: int = 9, top: int = 10) -> dict[str, Any]:
    """`python -X importtime -c "import app"` and the same for the baseline's imports, alternating,
    `repeats` times each after a warm-up. On a busy machine single runs vary a lot, so only the calmer
    half of the runs (smallest totals) is kept and medians are taken over it.

    * top modules by cumulative time (a module's own time plus everything it imported first);
    * time per package, exclusive: each module's self time goes to its package (chalicelib split by
      subpackage), except a stdlib module's, which goes to the package whose import pulled it in first
      (so `ssl`, `http.client` and `email` count for urllib3/botocore). The rows add up to the total;
    * the same, counting only modules the baseline (pynamodb) does not import: what app adds.
    """
    env = child_env(None)
    startup = {node.name for node in _importtime("pass", env)}
    app_runs: list[list[_Node]] = []
    base_runs: list[list[_Node]] = []
    for i in range(repeats + 1):
        app_nodes, base_nodes = _importtime("import app", env), _importtime(BASELINE_IMPORTS, env)
        if i:
            app_runs.append([n for n in app_nodes if n.name not in startup])
            base_runs.append([n for n in base_nodes if n.name not in startup])
    app_runs, base_runs = _calmest(app_runs), _calmest(base_runs)
    in_baseline = {node.name for nodes in base_runs for node in nodes}

    cum = _median_by(app_runs, lambda n: n.name, lambda n: n.cumulative_us)
    own = _median_by(app_runs, lambda n: n.name, lambda n: n.self_us)
    by_package = _median_by(app_runs, lambda n: n.owner, lambda n: n.self_us)
    beyond = _median_by(
        [[n for n in nodes if n.name not in in_baseline] for nodes in app_runs],
        lambda n: n.owner,
        lambda n: n.self_us,
    )
    total = statistics.median(_total(nodes) for nodes in app_runs)
    base_total = statistics.median(_total(nodes) for nodes in base_runs)

    def rows(values: dict[str, float]) -> list[dict[str, Any]]:
        ranked = sorted(values.items(), key=lambda kv: -kv[1])[:top]
        return [{"package": k, "ms": round(v / 1000, 1), "share": round(v / total, 3)} for k, v in ranked]

    return {
        "total_ms": round(total / 1000, 1),
        "baseline_total_ms": round(base_total / 1000, 1),
        "modules_imported": len(cum),
        "runs_kept": len(app_runs),
        "top_cumulative": [
            {"module": name, "cumulative_ms": round(us / 1000, 1), "self_ms": round(own[name] / 1000, 1)}
            for name, us in sorted(cum.items(), key=lambda kv: -kv[1])[:top]
        ],
        "by_package": rows(by_package),
        "beyond_baseline_ms": round(sum(beyond.values()) / 1000, 1),
        "beyond_baseline": rows(beyond),
    }


def _importtime(code: str, env: dict[str, str]) -> list[_Node]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing failed:\n{done.stderr[-3000:]}")
    return _import_tree(done.stderr)


def _total(nodes: list[_Node]) -> int:
    return sum(node.self_us for node in nodes)


def _calmest(runs: list[list[_Node]]) -> list[list[_Node]]:
    return sorted(runs, key=_total)[: max(1, (len(runs) + 1) // 2)]


def _median_by(
    runs: list[list[_Node]], key: Callable[[_Node], str], value: Callable[[_Node], int]
) -> dict[str, float]:
    """Sums `value` per `key` within each run, then takes the median over runs (absent = 0)."""
    sums: list[dict[str, int]] = []
    for nodes in runs:
        per: dict[str, int] = {}
        for node in nodes:
            per[key(node)] = per.get(key(node), 0) + value(node)
        sums.append(per)
    keys = {k for per in sums for k in per}
    return {k: statistics.median(per.get(k, 0) for per in sums) for k in keys}


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass
class _Node:
    name: str
    self_us: int
    cumulative_us: int
    level: int
    children: list[_Node] = field(default_factory=list)
    owner: str = ""


def _import_tree(stderr: str) -> list[_Node]:
    """-X importtime prints a module after what it imported, indented two spaces per level."""
    nodes: list[_Node] = []
    pending: list[_Node] = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        node = _Node(name, int(self_us), int(cumulative_us), len(indent) // 2)
        while pending and pending[-1].level > node.level:
            node.children.append(pending.pop())
        pending.append(node)
        nodes.append(node)

    def assign(node: _Node, inherited: str) -> None:
        parts = node.name.split(".")
        top = ".".join(parts[:2]) if parts[0] == "chalicelib" else parts[0]
        node.owner = inherited if parts[0] in sys.stdlib_module_names and inherited else top
        for child in node.children:
            assign(child, node.owner)

    for root in pending:
        assign(root, "")
    return nodes


def table(result: dict[str, Any]) -> str:
    lines = []
    for kind, label in (
        ("python", "python, nothing imported"),
        ("baseline", "A: pynamodb model + GetItem"),
        ("app", "B: import app + GET /products/{id}"),
        ("deployed", "B, deployed: the package, read-only, -B"),
    ):
        r = result[kind]
        lines.append(
            [
                label,
                f"{r['wall_ms_median']:.0f}",
                f"{r['wall_ms_min']:.0f}-{r['wall_ms_max']:.0f}",
                f"{r['response_ms_median']:.0f}",
                f"{r['import_ms_median']:.0f}" if "import_ms_median" in r else "-",
                f"{r['request_ms_median']:.0f}" if "request_ms_median" in r else "-",
                str(r.get("modules", "-")),
            ]
        )
    headers = [f"fresh subprocess, N={result['runs']} alternating", "wall p50", "wall min-max", "to response"]
    headers += ["import", "1st request", "modules"]
    text = render(headers, lines, right={1, 2, 3, 4, 5, 6})
    package = result["package"]
    return (
        f"HEADLINE, as Lambda runs it: B deployed / A, to the response = {result['ratio_deployed']:.2f}"
        f" (target <= {result['target_deployed']}): {result['verdict_deployed']}"
        f" ({package['with_bytecode']} of the package's {package['py_files']} .py files ship bytecode)\n"
        f"{text}\n(ms, medians; wall = launch to exit as seen by the parent; to response = launch to the"
        " answer, without interpreter teardown)\n"
        f"ratio B/A, wall = {result['ratio']:.2f} (target <= {TARGET_RATIO}): {result['verdict']}"
        f"; best of {result['runs']} = {result['ratio_min']:.2f}"
        f"; paired = {result['ratio_paired_median']:.2f}"
        f"; to response = {result['ratio_to_response']:.2f}"
    )


def import_table(profile: dict[str, Any]) -> str:
    top = render(
        ["module (top 10 by cumulative)", "cumulative ms", "self ms"],
        [
            [r["module"], f"{r['cumulative_ms']:.1f}", f"{r['self_ms']:.1f}"]
            for r in profile["top_cumulative"]
        ],
        right={1, 2},
    )
    packages = render(
        ["package (own + stdlib it pulled in)", "ms", "share"],
        [[r["package"], f"{r['ms']:.1f}", f"{r['share']:.0%}"] for r in profile["by_package"]],
        right={1, 2},
    )
    beyond = render(
        [f"beyond the baseline's {profile['baseline_total_ms']:.0f} ms (pynamodb)", "ms", "share"],
        [[r["package"], f"{r['ms']:.1f}", f"{r['share']:.0%}"] for r in profile["beyond_baseline"]],
        right={1, 2},
    )
    head = (
        f"import app: {profile['total_ms']:.0f} ms, {profile['modules_imported']} modules"
        f" (-X importtime, which inflates times; median of the calmest {profile['runs_kept']} runs);"
        f" {profile['beyond_baseline_ms']:.0f} ms of it in modules the baseline does not import"
    )
    return f"{head}\n\n{top}\n\n{packages}\n\n{beyond}"
