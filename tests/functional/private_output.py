"""The functional suite's watch on what the app writes (README, "Observability"): every log line, at every
level, and every metric line of each test is collected and searched for keys, tokens, secrets, e-mail
addresses and street addresses; tests/functional/conftest.py fails a test whose output carries one.

Log lines go on being printed as before (the logger's handler keeps the level it had); the watch adds a
second handler that formats every record, DEBUG included, the way Lambda would print it."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

PATTERNS = {
    "API key": re.compile(r"dm_(?:rt|op)_[0-9a-z]{32}"),
    "cart token": re.compile(r"\bct_[0-9a-z]{32}"),
    "order token": re.compile(r"\bot_[0-9a-f]{40}"),
    "webhook secret": re.compile(r"whsec_\w+"),
    "payment client secret": re.compile(r"_secret_[A-Za-z0-9]+"),
    "e-mail address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    # An address object written out (a customer's delivery address, a shop's address).
    "street address": re.compile(r"\"(?:street|postal_code)\"\s*:"),
}


class Watch:
    def __init__(self) -> None:
        self.logs = io.StringIO()
        self.metric_lines: list[str] = []

    def text(self) -> str:
        return self.logs.getvalue() + "\n".join(self.metric_lines)

    def leaks(self) -> dict[str, list[str]]:
        text = self.text()
        found = {what: sorted(set(p.findall(text)))[:3] for what, p in PATTERNS.items()}
        return {what: matches for what, matches in found.items() if matches}


@contextmanager
def watched() -> Iterator[Watch]:
    from chalicelib.core import metrics
    from chalicelib.core.log import logger

    watch = Watch()
    printed = logger.registered_handler
    before = (logger.log_level, printed.level)
    collector = logging.StreamHandler(watch.logs)
    collector.setFormatter(printed.formatter)
    # What was printed before is printed still; every record reaches the collector.
    printed.setLevel(max(before))
    logger.setLevel(logging.DEBUG)
    logger.addHandler(collector)
    write = metrics._write

    def collect(line: str) -> None:
        watch.metric_lines.append(line)
        write(line)

    metrics._write = collect
    try:
        yield watch
    finally:
        metrics._write = write
        logging.getLogger(logger.name).removeHandler(collector)
        logger.setLevel(before[0])
        printed.setLevel(before[1])
