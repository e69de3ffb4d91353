from __future__ import annotations

from chalicelib.core.errors import NotAuthenticated, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__("order", order_id)


class BadOrderToken(NotAuthenticated):
    code = "invalid_order_token"

    def __init__(self) -> None:
        super().__init__("Send the order's token as X-Order-Token.")
