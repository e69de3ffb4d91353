from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound, Unprocessable


class PayoutNotFound(NotFound):
    code = "payout_not_found"

    def __init__(self, payout_id: str) -> None:
        super().__init__("payout", payout_id)


class PayoutAccountNotFound(NotFound):
    code = "payout_account_not_found"

    def __init__(self, shop_id: str) -> None:
        super().__init__("payout account", shop_id)


class AccountNotStarted(Conflict):
    code = "payout_account_not_started"

    def __init__(self) -> None:
        super().__init__("Create the shop's payout account first: POST /retailer/payouts/account.")


class AccountDisconnected(Conflict):
    code = "payout_account_disconnected"

    def __init__(self) -> None:
        super().__init__("The shop disconnected its Stripe account from the mall; ask the operator.")


class NothingToPayOut(Unprocessable):
    """Nothing available (or less than the minimum), or the shop cannot be paid right now."""

    code = "nothing_to_pay_out"

    def __init__(self, available_cents: int, minimum_cents: int, reason: str) -> None:
        super().__init__(
            "There is nothing to pay out now.",
            available_cents=available_cents,
            minimum_cents=minimum_cents,
            reason=reason,
        )


class PayoutInProgress(Conflict):
    code = "payout_in_progress"

    def __init__(self, payout_id: str | None) -> None:
        super().__init__(
            "Another payout of this shop is in progress; try again shortly.", payout_id=payout_id
        )


class PayoutNotRetryable(Conflict):
    code = "payout_not_retryable"

    def __init__(self, payout_id: str, status: str) -> None:
        super().__init__(
            f"This payout is {status}: only a payout still moving money is retried.",
            payout_id=payout_id,
            status=status,
        )
