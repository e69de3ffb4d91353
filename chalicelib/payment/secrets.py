"""Stripe credentials: from the environment (local runs, tests) or SSM Parameter Store SecureStrings in
deployed stages. Read once per Lambda container, never logged."""

from __future__ import annotations

import os
from functools import cache


@cache
def _ssm_client():  # type: ignore[no-untyped-def]
    import botocore.session

    return botocore.session.get_session().create_client("ssm")


@cache
def _secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    parameter = os.environ.get(f"{name}_PARAM")
    if not parameter:
        raise RuntimeError(f"{name} is not configured (set {name} or {name}_PARAM)")
    response = _ssm_client().get_parameter(Name=parameter, WithDecryption=True)
    return str(response["Parameter"]["Value"])


def stripe_secret_key() -> str:
    return _secret("STRIPE_SECRET_KEY")


def webhook_secret() -> str:
    return _secret("STRIPE_WEBHOOK_SECRET")


def connect_webhook_secret() -> str:
    """The Connect endpoint's own signing secret: a platform event can never pass as a Connect one."""
    return _secret("STRIPE_CONNECT_WEBHOOK_SECRET")
