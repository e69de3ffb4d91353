"""The mall's Lambdas: wiring only. Routes live in chalicelib/api/, logic in the domain packages."""

import gc
import sys

# Cold start: imports create many long-lived objects; collecting garbage while they load (and again in the
# first request) only walks them. Collect nothing until the app is built, then freeze what exists so later
# collections skip it. Measured: about 15 % of a cold request (bench/coldstart.py).
gc.disable()

# The heavy imports run on a fresh thread's stack, the AWS SDK's tree first: on Python 3.11 a deep stack
# can make each regular-expression compile map and unmap memory (chalicelib/core/fresh_stack.py).
from chalicelib.core.fresh_stack import import_on_fresh_stack

import_on_fresh_stack("chalicelib.core.db", "chalicelib.api.routes", "chalicelib.core.invocation")

from chalice import Chalice, Cron, Rate
from chalice.app import DynamoDBEvent, SQSEvent

from chalicelib.api.cors import cors_config
from chalicelib.api.routes import register_routes
from chalicelib.api.routing import chalice_errors_in_our_shape
from chalicelib.core.config import settings
from chalicelib.core.invocation import observed
from chalicelib.notify.stream import table_stream_arn

app = Chalice(app_name="digital-mall")
# Headless storefronts and the back office call the API from browsers on their own origins (the stage's
# CORS_ALLOW_ORIGIN): every header the routes read, the answer headers a page reads (chalicelib/api/cors.py).
app.api.cors = cors_config(settings().cors_allow_origin)
# Chalice's own answers (415, 405, its 500) in the one error shape, with CORS headers (README, errors).
app.register_middleware(chalice_errors_in_our_shape(app.api.cors), "http")
# Every function, whatever its trigger: log lines carry the Lambda context; the metrics an invocation
# counted are flushed when it ends (chalicelib/core/invocation.py).
app.register_middleware(observed, "all")
if "chalice.local" in sys.modules:
    # chalice local and chalice.test stand in for API Gateway: answer as its gateway responses do when
    # deployed (infra/mall-stack.yaml). Never imported in the Lambda.
    from chalicelib.api.gateway_errors import answer_like_the_deployed_gateway

    answer_like_the_deployed_gateway()

# Every route, each route module loaded on its first request (chalicelib/api/routes.py).
register_routes(app)

gc.freeze()
gc.enable()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def expire_checkout_holds(event: object) -> None:
    """Cancels orders left unpaid past their hold and gives their stock back."""
    from chalicelib.order.service import expire_holds

    expire_holds()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def relay_notifications(event: object) -> None:
    """Sweeps order events the stream path left in the outbox and sends due retailer webhooks."""
    from chalicelib.notify.relay import relay_notifications

    relay_notifications()


# The outbox relay's fast path: the table's stream (NEW_IMAGE, infra/mall-stack.yaml) -> this function, in
# its own Lambda; each stream shard is read in order, up to 100 records a call. The stream's ARN is known at
# import: chalice deploy imports app.py with the stage's TABLE_STREAM_ARN (from the stack's outputs).
@app.on_dynamodb_record(stream_arn=table_stream_arn(), batch_size=100, maximum_batching_window_in_seconds=1)
def relay_order_events(event: DynamoDBEvent) -> None:
    """Publishes newly written order events to the event channel and schedules their webhook deliveries."""
    from chalicelib.notify.relay import relay_stream

    relay_stream(event.to_dict().get("Records") or [])


@app.schedule(Rate(1, unit=Rate.HOURS))
def cancel_pickup_no_shows(event: object) -> None:
    """Cancels, refunds and restocks pickup sub-orders not collected within the shop's no-show days, and
    asks the provider again for refunds it left pending or failed while a customer is owed the money."""
    from chalicelib.order.no_shows import cancel_no_shows, retry_stalled_refunds

    cancel_no_shows()
    retry_stalled_refunds()


# S3 (ObjectCreated under uploads/) -> SQS (infra/mall-stack.yaml) -> this function, in its own Lambda with
# its own memory size (.chalice/config.json). The queue's name is known at import: chalice deploy imports
# app.py with the stage's environment variables (IMAGE_QUEUE_NAME). batch_size=1: one photo per invocation
# keeps memory and time predictable, and a failure retries only that photo.
@app.on_sqs_message(queue=settings().image_queue_name, batch_size=1, maximum_concurrency=10)
def process_image_uploads(event: SQSEvent) -> None:
    """Validates uploaded product images and publishes their WebP renditions."""
    # Pillow is imported here, in this function's Lambda only: never on the API's cold start.
    from chalicelib.images.processing import handle_sqs_event

    handle_sqs_event([record.to_dict() for record in event])


# The daily payout sweep: shops due today (by key, sharded) become one message each on the payout queue
# (infra/mall-stack.yaml). 02:00 UTC: after midnight in Belgium, before shops open.
@app.schedule(Cron(0, 2, "*", "*", "?", "*"))
def sweep_payouts(event: object) -> None:
    """Finds the shops due for a scheduled payout and queues one message per shop."""
    from chalicelib.payout.sweep import sweep

    sweep()


# The payout worker: one shop per message; its maximum concurrency bounds the Stripe writes per second
# (README, "Payouts": 10 workers make ~29 writes/s, a third of Stripe's 100/s live limit).
@app.on_sqs_message(queue=settings().payout_queue_name, batch_size=1, maximum_concurrency=10)
def pay_shops(event: SQSEvent) -> None:
    """Pays one shop: claims its available entries, transfers the amount, pays it out to its bank."""
    from chalicelib.payout.sweep import handle_messages

    handle_messages([record.body for record in event])


# The relist worker: one message per recorded shop-wide change (suspension, reactivation, new name or terms)
# rewrites the shop's products off the request (chalicelib/catalog/relisting.py; infra/mall-stack.yaml).
@app.on_sqs_message(queue=settings().relist_queue_name, batch_size=1, maximum_concurrency=5)
def relist_shops(event: SQSEvent) -> None:
    """Brings every product of one shop to the shop's current status, name and terms."""
    from chalicelib.catalog.relisting import handle_messages

    handle_messages([record.body for record in event])
