"""Cold-start imports on a fresh, shallow Python stack (CPython 3.11, the Lambda runtime's Python).

CPython 3.11 keeps its frames in 16 KiB chunks and frees a chunk as soon as the stack shrinks below its
start. Code that recurses back and forth across a chunk's start (the regular-expression compiler, run
by urllib3 and botocore at import) then maps and unmaps a chunk on every call: measured, up to 3,000
mmap/munmap pairs and 10-25 ms of a catalogue cold start. Whether it happens depends on how deep the
stack already is when the import runs, which the Lambda runtime's bootstrap decides, not us: the same
package thrashed or not depending on a few frames (bench/coldstart.py, README "Cold starts").

So app.py hands its heavy imports to a new thread: its stack starts empty, whoever imports app.py, and
each module named here is imported from the top of it, deepest dependency trees first (the AWS SDK
under PynamoDB), which keeps the nesting, and with it the chunk crossings, small. The import system's
per-module locks make this as safe as an ordinary import: the modules are complete when this returns,
and the caller's own imports of them then just read sys.modules.
"""

from __future__ import annotations

import gc
import importlib
import threading


def import_on_fresh_stack(*names: str) -> None:
    """Imports `names` in order on a new thread and waits; re-raises what an import raised. The garbage
    collector is paused meanwhile, as app.py pauses it for its start: imports only create long-lived
    objects, which a collection would walk for nothing (measured: 5-8 ms of a route module's first load)."""
    failures: list[BaseException] = []

    def load() -> None:
        try:
            for name in names:
                importlib.import_module(name)
        except BaseException as failure:  # re-raised in the caller's thread: an import must fail loudly
            failures.append(failure)

    collecting = gc.isenabled()
    gc.disable()
    try:
        thread = threading.Thread(target=load, name="cold-start-imports")
        thread.start()
        thread.join()
    finally:
        if collecting:
            gc.enable()
    if failures:
        raise failures[0]
