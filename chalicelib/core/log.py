"""Structured JSON logs (Powertools Logger). Never log headers, bodies or keys: only what is named here."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="digital-mall")
