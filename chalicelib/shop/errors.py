from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound


class ShopNotFound(NotFound):
    code = "shop_not_found"

    def __init__(self, shop_id: str) -> None:
        super().__init__("shop", shop_id)


class ShopChangedConcurrently(Conflict):
    code = "shop_changed_concurrently"

    def __init__(self, shop_id: str) -> None:
        super().__init__("The shop was changed by another request; read it again and retry.", shop_id=shop_id)
