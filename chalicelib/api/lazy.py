"""Domain modules a route module names at import but loads on first use, so a cold start loads only what
its request calls: a catalogue request never loads checkout, order, payment or notification code.

    checkouts = lazy("chalicelib.checkout.service")   # instead of `from chalicelib.checkout import service`

The returned module runs its code on first attribute access (importlib.util.LazyLoader) and is the one in
sys.modules, so a later ordinary import gets the same module. Schemas stay ordinary imports: routes are
declared with them at import (OpenAPI, request parsing).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as an import does: chalicelib.shop.service is reachable as an attribute of its package
        setattr(sys.modules[parent], child, module)
    return module
