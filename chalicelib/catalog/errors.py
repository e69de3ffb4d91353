from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.errors import Conflict, NotFound

# Cancellation reasons that mean another request won: anything else is a write DynamoDB refused.
_RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class ProductNotFound(NotFound):
    code = "product_not_found"

    def __init__(self, product_id: str) -> None:
        super().__init__("product", product_id)


class VariantNotFound(NotFound):
    code = "variant_not_found"

    def __init__(self, variant_id: str) -> None:
        super().__init__("variant", variant_id)


class SkuTaken(Conflict):
    code = "sku_taken"

    def __init__(self, skus: list[str]) -> None:
        super().__init__("A SKU is already used by another variant of this shop.", skus=skus)


class TooManyVariants(Conflict):
    code = "too_many_variants"

    def __init__(self, limit: int) -> None:
        super().__init__(f"A product has at most {limit} variants.", limit=limit)


class ProductChangedConcurrently(Conflict):
    code = "product_changed_concurrently"

    def __init__(self, product_id: str) -> None:
        super().__init__(
            "The product was changed by another request; read it again and retry.", id=product_id
        )


class StockWouldGoNegative(Conflict):
    code = "stock_would_go_negative"

    def __init__(self, variant_id: str, stock: int) -> None:
        super().__init__("Stock cannot go below zero.", variant_id=variant_id, stock=stock)


class StockOverMaximum(Conflict):
    code = "stock_over_maximum"

    def __init__(self, variant_id: str, stock: int, maximum: int) -> None:
        super().__init__(
            f"Stock cannot exceed {maximum}.", variant_id=variant_id, stock=stock, maximum=maximum
        )


def lost_a_race(error: TransactWriteError) -> bool:
    """Only a failed condition or a transaction colliding with another is a concurrent change."""
    if error.cause_response_code != "TransactionCanceledException":
        return False
    reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
    return bool(reasons) and reasons <= _RACE_CODES


def changed_concurrently_or_raise(error: TransactWriteError, product_id: str) -> ProductChangedConcurrently:
    """The conflict to raise when the write lost a race. Any other refusal (a ValidationException, a key or
    an item too large) is our bug, not the client's: retrying cannot help, so it is never reported as a
    concurrent change but raised as it is, for the API layer to log and answer 500."""
    if lost_a_race(error):
        return ProductChangedConcurrently(product_id)
    raise error
