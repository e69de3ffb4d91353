"""Domain modules a route module names at import but loads on first use, so a cold start loads only what
its request calls: a catalogue request never loads checkout, order, payment or notification code.

    checkouts = lazy("chalicelib.checkout.service")   # instead of `from chalicelib.checkout import service`

The returned stand-in imports the real module on first attribute access and hands every attribute over
from it. It is never put in sys.modules: the real module is, so an ordinary import (and a test's
monkeypatch of the module) meets the same module the routes call.

Not importlib.util.LazyLoader: on Python 3.11 it is not thread-safe (fixed in 3.13), and two requests that
first use a module at once (chalice local serves requests on threads) could see it half initialised. An
import through importlib holds the import system's per-module lock until the module is complete.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        # Only called for what the stand-in itself lacks: everything but its name.
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy(name: str) -> ModuleType:
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(name)
    return sys.modules.get(name) or _LazyModule(name)
