"""Constrained field types shared by request schemas. Limits are generous for real shops and tight
enough that nothing absurd reaches DynamoDB (item size, key length) or a customer's screen."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.catalog.taxonomy import CATEGORIES
from chalicelib.core.validation import text

Id = Annotated[str, Meta(pattern=r"^[a-z0-9_-]{1,64}$", description="Opaque identifier")]
Name = Annotated[str, text(min_length=1, max_length=120)]
ShortText = Annotated[str, text(max_length=500, multiline=True)]
LongText = Annotated[str, text(max_length=5000, multiline=True)]
# A Literal of the taxonomy: an unknown category is reported with every other bad field, and the OpenAPI
# document lists the categories as an enum.
Slug = Literal[CATEGORIES]  # type: ignore[valid-type]
Cents = Annotated[int, Meta(ge=0, le=10_000_000, description="Money in euro cents")]
PriceCents = Annotated[int, Meta(ge=1, le=10_000_000, description="Price in euro cents, VAT included")]
MAX_STOCK = 1_000_000
StockCount = Annotated[int, Meta(ge=0, le=MAX_STOCK)]
VatRateBps = Annotated[int, Meta(ge=0, le=10_000, description="VAT rate in basis points: 2100 = 21 %")]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Limit = Annotated[int, Meta(ge=1, le=100, description="Page size, 1 to 100")]
Cursor = Annotated[str, Meta(min_length=1, max_length=2048, description="Opaque cursor from next_cursor")]
IsoDate = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A local date, YYYY-MM-DD")]
HourMinute = Annotated[str, Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", description="HH:MM, 24-hour")]
