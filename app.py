"""The mall's API Lambda: wiring only. Routes live in chalicelib/api/, logic in the domain packages."""

from chalice import Chalice

from chalicelib.api.docs import docs
from chalicelib.api.operator import operator
from chalicelib.api.retailer import retailer
from chalicelib.api.storefront import storefront

app = Chalice(app_name="digital-mall")
# Headless storefronts call the API from browsers on their own domains.
app.api.cors = True

app.register_blueprint(storefront)
app.register_blueprint(retailer)
app.register_blueprint(operator)
app.register_blueprint(docs)
