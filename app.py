"""The mall's Lambdas: wiring only. Routes live in chalicelib/api/, logic in the domain packages."""

from chalice import Chalice, Rate

from chalicelib.api.checkout import checkout
from chalicelib.api.docs import docs
from chalicelib.api.operator import operator
from chalicelib.api.payments import payments
from chalicelib.api.retailer import retailer
from chalicelib.api.retailer_orders import retailer_orders
from chalicelib.api.storefront import storefront
from chalicelib.payment.gateway import simulated

app = Chalice(app_name="digital-mall")
# Headless storefronts call the API from browsers on their own domains.
app.api.cors = True

app.register_blueprint(storefront)
app.register_blueprint(checkout)
app.register_blueprint(retailer)
app.register_blueprint(retailer_orders)
app.register_blueprint(operator)
app.register_blueprint(payments)
app.register_blueprint(docs)
if simulated():
    from chalicelib.api.dev_payments import simulated_payments

    app.register_blueprint(simulated_payments)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def expire_checkout_holds(event: object) -> None:
    """Cancels orders left unpaid past their hold and gives their stock back."""
    from chalicelib.order.service import expire_holds

    expire_holds()
