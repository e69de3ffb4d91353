"""Who is calling: turns an Authorization header into a Principal with one GetItem."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth import suspension
from chalicelib.auth.errors import InvalidApiKey, MissingApiKey, ShopSuspended, WrongRole
from chalicelib.auth.keys import IssuedKey, Role, digest, issue_key, well_formed
from chalicelib.auth.models import ApiKeyItem
from chalicelib.core.clock import iso, now


@dataclass(frozen=True)
class Principal:
    role: Role
    shop_id: str | None
    shop_active: bool

    def require_writable_shop(self) -> str:
        """The shop id, for a service that changes the shop's own data. The rule lives in
        chalicelib/auth/suspension.py and is applied to every route by `authenticate`; this repeats its
        refusal for callers outside a route (seeding, tools) and for services never on its allowed list."""
        assert self.shop_id is not None
        if not self.shop_active:
            raise ShopSuspended(self.shop_id)
        return self.shop_id


def authenticate(
    authorization: str | None, required: Role, route: tuple[str, str] | None = None
) -> Principal:
    """`route` is the (method, path template) being served: a suspended shop's key is held to the
    suspension rule (chalicelib/auth/suspension.py) here, for every route at once."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingApiKey()
    token = token.strip()
    if not well_formed(token):
        raise InvalidApiKey()
    try:
        record = ApiKeyItem.get(*ApiKeyItem.key_for(digest(token)))
    except ApiKeyItem.DoesNotExist:
        raise InvalidApiKey() from None
    if record.role != required:
        raise WrongRole(required.value)
    if route is not None:
        suspension.check_route(record.shop_id, bool(record.shop_active), *route)
    return Principal(Role(record.role), record.shop_id, record.shop_active)


def new_key_item(role: Role, shop_id: str | None) -> tuple[IssuedKey, ApiKeyItem]:
    issued = issue_key(role)
    pk, sk = ApiKeyItem.key_for(issued.digest)
    item = ApiKeyItem(
        pk, sk, role=role.value, shop_id=shop_id, display_prefix=issued.display_prefix, created_at=iso(now())
    )
    return issued, item


def create_operator_key() -> str:
    """Admin tooling (tools/operator_key.py): the plaintext is printed once to whoever runs it."""
    issued, item = new_key_item(Role.OPERATOR, None)
    item.save(condition=ApiKeyItem.pk.does_not_exist())
    return issued.plaintext
