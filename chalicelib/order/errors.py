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


class OrderNotPending(Conflict):
    code = "order_not_pending_payment"

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(
            f"This order is {status}: only an unpaid order can be given up.", order_id=order_id, status=status
        )


class SubOrderChangedConcurrently(Conflict):
    code = "sub_order_changed_concurrently"

    def __init__(self, order_id: str) -> None:
        super().__init__("The sub-order changed meanwhile: read it again.", order_id=order_id)


class WrongPickupCode(Unprocessable):
    code = "wrong_pickup_code"

    def __init__(self, attempts_left: int) -> None:
        super().__init__("That is not this order's pickup code.", attempts_left=attempts_left)


class TooManyPickupAttempts(TooManyAttempts):
    code = "too_many_pickup_attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many wrong pickup codes for this order: try again later.", retry_after_seconds)


class RefundNotFound(NotFound):
    code = "refund_not_found"

    def __init__(self, refund_id: str) -> None:
        super().__init__("refund", refund_id)


class RefundExceedsPaid(Unprocessable):
    """More units (or money) than were paid for and not yet refunded: nothing is changed."""

    code = "refund_exceeds_paid"

    def __init__(self, variant_id: str, requested: int, refundable: int) -> None:
        super().__init__(
            f"Only {refundable} unit(s) of this line can still be refunded.",
            variant_id=variant_id,
            requested=requested,
            refundable=refundable,
        )


class NothingToRefund(Unprocessable):
    code = "nothing_to_refund"

    def __init__(self) -> None:
        super().__init__("Everything paid for in this sub-order has already been refunded.")


class RefundNotAllowed(Conflict):
    """Before hand-over a sub-order is refunded by cancelling it as a whole; a cancelled or unpaid one has
    nothing (more) to refund."""

    code = "refund_not_allowed"

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message, status=status)


class RefundNotRetryable(Conflict):
    code = "refund_not_retryable"

    def __init__(self, refund_id: str, status: str) -> None:
        super().__init__(f"This refund is {status}: only a pending refund is retried.", refund_id=refund_id)
