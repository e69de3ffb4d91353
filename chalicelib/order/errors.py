from __future__ import annotations

from chalicelib.core.errors import Conflict, NotAuthenticated, NotFound, TooManyAttempts, Unprocessable


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, order_id: str) -> None:
        super().__init__("order", order_id)


class BadOrderToken(NotAuthenticated):
    code = "invalid_order_token"

    def __init__(self) -> None:
        super().__init__("Send the order's token as X-Order-Token.")


class SubOrderChangedConcurrently(Conflict):
    code = "sub_order_changed_concurrently"

    def __init__(self, order_id: str) -> None:
        super().__init__("The sub-order changed meanwhile: read it again.", order_id=order_id)


class UseRefundFlow(Unprocessable):
    """Cancelling a paid sub-order means refunding it, which the refunds feature will do in one step."""

    code = "use_refund_flow"

    def __init__(self) -> None:
        super().__init__(
            "A paid sub-order is cancelled together with its refund; that comes with the refunds feature."
        )


class WrongPickupCode(Unprocessable):
    code = "wrong_pickup_code"

    def __init__(self, attempts_left: int) -> None:
        super().__init__("That is not this order's pickup code.", attempts_left=attempts_left)


class TooManyPickupAttempts(TooManyAttempts):
    code = "too_many_pickup_attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many wrong pickup codes for this order: try again later.", retry_after_seconds)
