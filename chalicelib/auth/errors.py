from __future__ import annotations

from chalicelib.core.errors import NotAllowed, NotAuthenticated


class MissingApiKey(NotAuthenticated):
    code = "missing_api_key"

    def __init__(self) -> None:
        super().__init__("Send your API key as 'Authorization: Bearer <key>'.")


class InvalidApiKey(NotAuthenticated):
    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__("The API key is not valid.")


class WrongRole(NotAllowed):
    code = "wrong_role"

    def __init__(self, required: str) -> None:
        super().__init__(f"This route needs the {required}'s key.", required_role=required)


class ShopSuspended(NotAllowed):
    code = "shop_suspended"

    def __init__(self, shop_id: str) -> None:
        super().__init__("This shop is suspended; its data is read-only.", shop_id=shop_id)
