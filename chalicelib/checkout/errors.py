from __future__ import annotations

from typing import Any

from chalicelib.core.errors import Conflict, NotAuthenticated, NotFound, Unprocessable


class CartNotFound(NotFound):
    code = "cart_not_found"

    def __init__(self, cart_id: str) -> None:
        super().__init__("cart", cart_id)


class BadCartToken(NotAuthenticated):
    code = "invalid_cart_token"

    def __init__(self) -> None:
        super().__init__("Send the cart's token as X-Cart-Token.")


class CartClosed(Conflict):
    code = "cart_checked_out"

    def __init__(self, cart_id: str, order_id: str | None) -> None:
        super().__init__(
            "This cart was checked out and can no longer change.", cart_id=cart_id, order_id=order_id
        )


class CartChangedConcurrently(Conflict):
    code = "cart_changed_concurrently"

    def __init__(self, cart_id: str) -> None:
        super().__init__("The cart was changed by another request; read it again and retry.", cart_id=cart_id)


class TooManyLines(Conflict):
    code = "too_many_lines"

    def __init__(self, limit: int) -> None:
        super().__init__(f"A cart holds at most {limit} different variants.", limit=limit)


class VariantUnavailable(Unprocessable):
    code = "variant_unavailable"

    def __init__(self, variant_id: str) -> None:
        super().__init__("This variant is not for sale.", variant_id=variant_id)


class LineNotInCart(NotFound):
    code = "line_not_found"

    def __init__(self, variant_id: str) -> None:
        super().__init__("cart line", variant_id)


class ShopNotInCart(NotFound):
    code = "shop_not_in_cart"

    def __init__(self, shop_id: str) -> None:
        super().__init__("shop in cart", shop_id)


class FulfilmentNotOffered(Unprocessable):
    code = "fulfilment_not_offered"

    def __init__(self, shop_id: str, method: str) -> None:
        super().__init__(f"This shop does not offer {method}.", shop_id=shop_id, method=method)


class OutsideDeliveryArea(Unprocessable):
    code = "outside_delivery_area"

    def __init__(self, shop_id: str, distance_km: float, radius_km: float) -> None:
        super().__init__(
            "The address is outside the shop's delivery area.",
            shop_id=shop_id,
            distance_km=round(distance_km, 2),
            radius_km=radius_km,
        )


class CartEmpty(Unprocessable):
    code = "cart_empty"

    def __init__(self) -> None:
        super().__init__("The cart has no lines.")


class CartNotReady(Unprocessable):
    code = "cart_not_ready"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The cart cannot be checked out as it is.", problems=problems)


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        super().__init__("Some lines are short of stock; nothing was reserved.", lines=lines)


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used for a different checkout request.")


class CheckoutInProgress(Conflict):
    code = "checkout_in_progress"

    def __init__(self, order_id: str) -> None:
        super().__init__(
            "This checkout is still being completed by an earlier request; retry shortly.", order_id=order_id
        )


class SlotUnavailable(Unprocessable):
    code = "slot_unavailable"

    def __init__(self, shop_id: str, slot_start: str) -> None:
        super().__init__(
            f"The pickup slot starting {slot_start} is past, full or not offered by this shop; "
            "list the shop's pickup slots and choose again.",
            shop_id=shop_id,
            slot_start=slot_start,
        )


class SlotFull(Conflict):
    code = "slot_full"

    def __init__(self, full: list[dict[str, Any]]) -> None:
        first = full[0]
        super().__init__(
            f"The pickup slot starting {first['slot_start']} was taken meanwhile; nothing was reserved. "
            "Choose another slot.",
            shop_id=first["shop_id"],
            slot_start=first["slot_start"],
            slots=full,
        )
