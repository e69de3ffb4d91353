"""Identifiers: short, URL-safe, unguessable."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford-style base32: no i, l, o, u
ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}$")


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_token(16)}"


def looks_like_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))
