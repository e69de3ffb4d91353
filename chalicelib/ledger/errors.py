from __future__ import annotations

from chalicelib.core.errors import NotFound


class CommissionOverrideNotFound(NotFound):
    code = "commission_override_not_found"

    def __init__(self, shop_id: str) -> None:
        super().__init__("commission override", shop_id)
