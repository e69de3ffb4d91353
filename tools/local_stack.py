"""`make run`: the whole mall on this machine, no AWS account, no Docker, no internet.

1. a moto server on loopback stands in for DynamoDB and S3;
2. the stack is created in it from infra/mall-stack.yaml (the production template) by CloudFormation;
3. the demo mall is seeded through the same service functions the API uses;
4. `chalice local --no-autoreload` serves the API (stage "local" of .chalice/config.json);
5. threads stand in for what chalice local does not run: the scheduled jobs, and the image-processing
   Lambda fed by the S3 upload queue and the payout worker fed by the payout queue (QueueConsumer),
   in tools/local_lambdas.py; tools/local_aws.py points boto3 at moto and creates the stack in it.
Ctrl-C, SIGTERM or SIGHUP (a supervisor, a closed terminal) stops everything it started, and `chalice
local` dies with it even if it is killed outright (tools/processes.py). Everything lives in memory, so every
run starts from a fresh demo. MALL_DEMO=0 starts it empty (tests/e2e/test_make_run.py, which only
starts and stops it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools.local_aws import (  # aws_env: also for the bench
    REGION,
    STAGE,
    aws_env,
    create_stack,
    image_env,
    serve_renditions,
)
from tools.local_lambdas import QueueConsumer, Scheduler, StreamRelay
from tools.processes import (  # noqa: F401 (free_port, port_in_use: also for the e2e tests)
    STOP,
    ChildFailed,
    ChildServer,
    free_port,
    port_in_use,
    wait_for_http,
    wait_port_free,
)
from tools.web_server import WebServer, web_config

ROOT = Path(__file__).resolve().parent.parent
# MALL_STATE_FILE lets e2e tests run a stack next to a developer's `make run` without sharing its keys file.
STATE_FILE = Path(os.environ.get("MALL_STATE_FILE") or ROOT / ".local" / "stack.json")
DEMO_IMAGES_PER_SHOP = 3


@dataclass
class StackInfo:
    api_url: str
    aws_endpoint: str
    table_name: str
    image_bucket: str
    operator_key: str = ""
    retailer_key: str = ""
    retailer_shop_id: str = ""
    retailer_shop_name: str = ""
    storefront_url: str = ""
    back_office_url: str = ""


def payment_env(api_url: str) -> dict[str, str]:
    """The simulated Stripe gateway: webhook secrets made up for this run (never in the repo), one for the
    platform endpoint and one for Connect's, and where the simulator delivers the signed webhooks and
    serves its pages (onboarding): this stack's own API."""
    return {
        "PAYMENT_GATEWAY": "simulated",
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET")
        or f"whsec_local_{secrets.token_hex(16)}",
        "STRIPE_CONNECT_WEBHOOK_SECRET": os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET")
        or f"whsec_local_connect_{secrets.token_hex(16)}",
        "MALL_WEBHOOK_URL": f"{api_url}/webhooks/stripe",
        "MALL_CONNECT_WEBHOOK_URL": f"{api_url}/webhooks/stripe-connect",
        "MALL_API_URL": api_url,
    }


def seed_demo(info: StackInfo, images: bool = False) -> None:
    """Opens the demo shops and creates their products through the services the API uses; with `images`,
    the first DEMO_IMAGES_PER_SHOP products of each shop get a generated photo (tools/demo_images.py)."""
    from chalicelib.auth.keys import Role
    from chalicelib.auth.service import Principal, create_operator_key
    from chalicelib.catalog.schemas import ProductIn
    from chalicelib.catalog.service import create_product
    from chalicelib.core.validation import convert
    from chalicelib.shop.schemas import ShopProfile
    from chalicelib.shop.service import open_shop
    from tools.demo_data import demo_products, demo_shops
    from tools.demo_payouts import DemoShop, seed_payouts

    info.operator_key = create_operator_key()
    seeded: list[DemoShop] = []
    for index, shop in enumerate(demo_shops()):
        body = {k: v for k, v in shop.items() if k != "key"}
        created = open_shop(convert(body, ShopProfile, strict=True))
        principal = Principal(Role.RETAILER, created.shop.id, True)
        products = []
        for position, product in enumerate(demo_products(shop["key"])):
            created_product = create_product(principal, convert(product, ProductIn, strict=True))
            products.append(created_product)
            if images and position < DEMO_IMAGES_PER_SHOP:
                from tools.demo_images import seed_image

                seed_image(principal, created_product.id, created_product.name)
        seeded.append(DemoShop(principal, products))
        if index == 0:
            info.retailer_key = created.api_key
            info.retailer_shop_id = created.shop.id
            info.retailer_shop_name = created.shop.profile.name
    # Commission, onboarded shops, and orders handed over in the past (tools/demo_payouts.py).
    seed_payouts(seeded)


@contextlib.contextmanager
def running_stack(
    api_port: int, moto_port: int, seed: bool = True, quiet: bool = False
) -> Iterator[StackInfo]:
    """Starts moto, the stack and `chalice local`; stops them on exit. Used by `make run` and e2e tests."""
    import boto3
    from moto.server import ThreadedMotoServer

    from tools import moto_patches

    moto_patches.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call drowns the API's logs

    for port in (api_port, moto_port):
        if port_in_use(port):
            raise SystemExit(
                f"port {port} on 127.0.0.1 is in use: stop what runs there (an earlier make run?)"
            )
    endpoint = f"http://127.0.0.1:{moto_port}"
    os.environ.update(aws_env(endpoint))
    os.environ.update(payment_env(f"http://127.0.0.1:{api_port}"))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    api: ChildServer | None = None
    scheduler: Scheduler | None = None
    web: list[WebServer] = []
    consumers: list[QueueConsumer | StreamRelay] = []
    try:
        outputs = create_stack()
        os.environ.update(image_env(endpoint, outputs))  # before chalicelib reads its settings
        serve_renditions(outputs["ImageBucketName"])
        info = StackInfo(
            api_url=f"http://127.0.0.1:{api_port}",
            aws_endpoint=endpoint,
            table_name=outputs["TableName"],
            image_bucket=outputs["ImageBucketName"],
        )
        if seed:
            seed_demo(info, images=True)
            # Seeding processed its images itself: their S3 events would only keep the processor busy.
            boto3.client("sqs", region_name=REGION).purge_queue(QueueUrl=outputs["ImageUploadQueueUrl"])
        consumers = [
            QueueConsumer(
                "image-uploads",
                outputs["ImageUploadQueueUrl"],
                outputs["ImageUploadQueueArn"],
                "process_image_uploads",
            ),
            QueueConsumer("payouts", outputs["PayoutQueueUrl"], outputs["PayoutQueueArn"], "pay_shops"),
            # Shop-wide changes (suspension, rename) relisted off the request, as deployed.
            QueueConsumer("relist", outputs["RelistQueueUrl"], outputs["RelistQueueArn"], "relist_shops"),
            StreamRelay(outputs["TableStreamArn"]),
        ]
        for consumer in consumers:
            consumer.start()
        chalice = Path(sys.executable).with_name("chalice")
        command = [str(chalice), "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(api_port)]
        with STOP.deferred():  # a stop signal now waits until `api` is set, so the finally stops it
            api = ChildServer(
                "chalice local",
                [*command, "--stage", STAGE],
                cwd=ROOT,
                env={**os.environ, **aws_env(endpoint)},
                ready_line="Serving on ",  # printed once it has bound the port
                quiet=quiet,
            )
        try:
            api.wait_serving(timeout=60)
        except ChildFailed as failed:
            if "Address already in use" not in str(failed):
                raise SystemExit(str(failed)) from None
            # A server that took the port while we seeded (the check above came earlier).
            raise SystemExit(
                f"{failed}\nport {api_port} on 127.0.0.1 was taken while the stack started: stop what runs "
                "there (an earlier make run?) and start again"
            ) from None
        wait_for_http(f"{info.api_url}/openapi.json", server=api)
        scheduler = Scheduler()
        scheduler.start()
        # The web apps, each on its own origin (MALL_STOREFRONT_PORT, MALL_BACK_OFFICE_PORT; 0: any port).
        # No Stripe key: locally payments go through the simulated gateway's pay/fail.
        config = web_config(info.api_url)
        for app, variable, default in (
            ("storefront", "MALL_STOREFRONT_PORT", 8080),
            ("back-office", "MALL_BACK_OFFICE_PORT", 8081),
        ):
            port = int(os.environ.get(variable, str(default)))
            if port and port_in_use(port):
                raise SystemExit(
                    f"port {port} on 127.0.0.1 is in use: stop what runs there, or set {variable}"
                )
            web.append(WebServer(app, port, config).start())
        info.storefront_url, info.back_office_url = web[0].url, web[1].url
        yield info
    finally:
        STOP.stopping()  # whatever ends the stack, a stop signal from now on must not cut this short
        # chalice local first: the only thing that could outlive this process and keep the port.
        if api is not None:
            api.stop()
            if api.serving and not wait_port_free(api_port):
                print(f"port {api_port} still answers after chalice local stopped", file=sys.stderr)
        for server in web:
            server.stop()
        for thread in [scheduler, *consumers]:
            if thread is not None:
                thread.stop()
        moto.stop()


def _banner(info: StackInfo) -> str:
    return f"""
The digital mall runs locally.

  API           {info.api_url}        (OpenAPI: {info.api_url}/openapi.json)
  Storefront    {info.storefront_url}
  Back office   {info.back_office_url}
  AWS (moto)    {info.aws_endpoint}   table {info.table_name}, bucket {info.image_bucket}

  Operator key  {info.operator_key}
  Retailer key  {info.retailer_key}
                (shop "{info.retailer_shop_name}", id {info.retailer_shop_id})

  Try:  curl '{info.api_url}/shops/near?lat=51.0543&lng=3.7219&radius_km=2'
        curl -H 'Authorization: Bearer {info.retailer_key}' {info.api_url}/retailer/shop

The keys are also in {_shown(STATE_FILE)}. Ctrl-C stops everything.
"""


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main() -> None:
    api_port = int(os.environ.get("MALL_API_PORT", "8000"))
    moto_port = int(os.environ.get("MALL_AWS_PORT", "5001"))
    seed = os.environ.get("MALL_DEMO", "1") != "0"

    # SIGINT, SIGTERM and SIGHUP stop us alike, also in the middle of seeding; only the first one counts.
    STOP.install()
    print("Starting the local stack (moto, CloudFormation, demo data, chalice local)...", flush=True)
    partial = STATE_FILE.with_name(STATE_FILE.name + ".tmp")
    written = False
    code = 0
    try:
        with running_stack(api_port, moto_port, seed=seed) as info:
            STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
            written = True
            # Written whole then renamed: whoever polls for the file never reads half of it.
            partial.write_text(json.dumps(asdict(info), indent=2))
            partial.replace(STATE_FILE)
            print(_banner(info), flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    except SystemExit as refused:  # a port in use, chalice local unable to serve: say why, exit non-zero
        code = 1
        _say(f"make run failed: {refused.code}", sys.stderr)
    except Exception:
        code = 1
        with contextlib.suppress(OSError):
            traceback.print_exc()
    finally:
        STOP.stopping()
        if written:  # never the file of another run (e.g. the one whose port made this one stop)
            partial.unlink(missing_ok=True)
            STATE_FILE.unlink(missing_ok=True)
    _say("Stopped.", sys.stdout)
    # Everything it started is stopped and all state was in memory. Leave now: a normal interpreter exit
    # garbage-collects moto's whole heap object by object, seconds (tens on a busy machine) after "Stopped.".
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _say(text: str, stream: Any) -> None:
    """Prints, unless the terminal is gone (SIGHUP after it closed): stopping must not fail on that."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream, flush=True)


if __name__ == "__main__":
    main()
