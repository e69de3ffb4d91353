"""chalicelib/api/lazy.py: a module named lazily loads on first use, once, whole, whatever the threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Sixteen threads use a lazily named module for the first time at once (chalice local serves requests on
# threads): each must see it whole. importlib.util.LazyLoader fails this on Python 3.11.
_RACE = """
import sys, threading
from chalicelib.api.lazy import lazy

name = "chalicelib.checkout.service"
service = lazy(name)
assert name not in sys.modules, "named, not loaded"
errors, start = [], threading.Barrier(16)

def use():
    start.wait()
    try:
        service.checkout
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=use) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not errors, errors
assert service.checkout is sys.modules[name].checkout
print("ok")
"""


def test_first_use_from_many_threads_at_once_sees_the_whole_module() -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "PYTHONPATH": str(ROOT)}
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", _RACE], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_an_unknown_module_is_refused_when_named() -> None:
    import pytest

    from chalicelib.api.lazy import lazy

    with pytest.raises(ModuleNotFoundError):
        lazy("chalicelib.no_such_module")
