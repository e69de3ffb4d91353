"""chalicelib/core/fresh_stack.py: imports on a new thread, complete when it returns, failures raised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.core.fresh_stack import import_on_fresh_stack

ROOT = Path(__file__).resolve().parents[2]


def test_modules_are_imported_in_order_on_another_thread_and_complete() -> None:
    child = """
import sys, threading
seen = []
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in ("json", "csv"):
            seen.append((name, threading.current_thread().name))
        return None
sys.meta_path.insert(0, Watch())
from chalicelib.core.fresh_stack import import_on_fresh_stack
import_on_fresh_stack("json", "csv")
assert seen == [("json", "cold-start-imports"), ("csv", "cold-start-imports")], seen
assert sys.modules["csv"].DictReader, "complete when it returns"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_an_import_that_fails_fails_the_caller() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"chalicelib\.no_such_module"):
        import_on_fresh_stack("json", "chalicelib.no_such_module")


def test_an_error_raised_while_importing_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mall_broken_module.py").write_text("raise RuntimeError('broken at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError, match="broken at import"):
        import_on_fresh_stack("mall_broken_module")
    assert "mall_broken_module" not in sys.modules


def test_the_collector_is_paused_while_importing_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    (tmp_path / "mall_gc_probe.py").write_text("import gc\ncollecting = gc.isenabled()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert gc.isenabled()
    import_on_fresh_stack("mall_gc_probe")
    assert sys.modules["mall_gc_probe"].collecting is False
    assert gc.isenabled(), "restored"
    gc.disable()
    try:
        import_on_fresh_stack("json")
        assert not gc.isenabled(), "left off when the caller had it off (app.py's start)"
    finally:
        gc.enable()
        sys.modules.pop("mall_gc_probe", None)
