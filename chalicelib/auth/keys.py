"""API keys: generated once, shown once, stored only as a SHA-256 digest.

A key carries 160 random bits, so a fast digest is enough (a slow password hash protects low-entropy
secrets); the digest is the DynamoDB key of the key record, so authentication is one GetItem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.core.ids import random_token


class Role(StrEnum):
    RETAILER = "retailer"
    OPERATOR = "operator"


_PREFIX = {Role.RETAILER: "dm_rt_", Role.OPERATOR: "dm_op_"}
KEY_PATTERN = re.compile(r"^dm_(rt|op)_[0-9a-z]{32}$")


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str  # returned to the caller once, never stored or logged
    digest: str
    display_prefix: str  # safe to show later ("dm_rt_4f9k…") so a retailer knows which key is live


def issue_key(role: Role) -> IssuedKey:
    plaintext = _PREFIX[role] + random_token(32)
    return IssuedKey(plaintext, digest(plaintext), plaintext[:10])


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def well_formed(plaintext: str) -> bool:
    return bool(KEY_PATTERN.match(plaintext))
