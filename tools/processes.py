"""Process hygiene for `make run`: a child server that cannot outlive the stack, and stop signals obeyed once.

Why this exists: `kill -TERM -- -<process group of make run>` (what a supervisor or a closing terminal
sends) reaches tools/local_stack.py twice, once from the kill and once forwarded by GNU make, which passes
SIGTERM on to its children. The second signal used to raise a second KeyboardInterrupt in the middle of the
cleanup, skipping the stop of `chalice local`, which kept serving on the port after "Stopped.".

- StopSignals: SIGINT, SIGTERM and SIGHUP all stop the stack the same way; only the first one interrupts
  the main thread, later ones are ignored so the cleanup runs to its end, and one arriving while a child is
  being started waits until the child is known (else it could not be stopped).
- ChildServer: a server process in its own process group (Ctrl-C in a terminal reaches the stack only,
  which stops it in order), stopped with its whole group on every exit path, and, on Linux, killed by the
  kernel if the stack itself dies without cleaning up (SIGKILL, a crash): PR_SET_PDEATHSIG is set by a tiny
  exec wrapper (this file run as a script), because Popen's preexec_fn is unsafe in a threaded process.
  Its readiness is its own "Serving on" line, printed once it has bound the port: a port taken by another
  server is then a clear failure, never that other server mistaken for ours.

Run as a script, this file is the wrapper: `python processes.py <parent pid> -- <command...>`; it must
import only the standard library.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class StopSignals:
    """The stack's reaction to SIGINT, SIGTERM and SIGHUP (one instance per process: signals are global)."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first stop signal, once one came
        self._deferring = 0
        self._pending = False

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            # `nohup make run` hands us SIGHUP ignored: it asked to survive the terminal, so we do.
            # (A shell that starts us in the background ignores SIGINT too, but Ctrl-C must still stop us.)
            if signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN:
                continue
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return  # already stopping: a second signal must not cut the cleanup short
        self.received = signum
        if self._deferring:
            self._pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A stop signal arriving inside is raised on leaving, once what the block started is known."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if self._pending and not self._deferring:
            self._pending = False
            raise KeyboardInterrupt

    def stopping(self) -> None:
        """From now on stop signals are ignored: the cleanup has begun (also after an error or a refusal)."""
        if self.received is None:
            self.received = 0


STOP = StopSignals()


def _set_parent_death_signal() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent dies, whatever the parent's death."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _exec_guarded(argv: Sequence[str]) -> None:
    """The wrapper: `<parent pid> -- <command...>`. The death signal survives execv: it guards the command."""
    parent, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: processes.py <parent pid> -- <command...>")
    _set_parent_death_signal()
    if os.getppid() != int(parent):
        raise SystemExit(0)  # the parent died before the death signal was armed: nobody to serve
    os.execv(command[0], list(command))


def guarded(command: Sequence[str]) -> list[str]:
    """`command`, run through the wrapper (which then execs it) so that it dies with this process on Linux."""
    return [sys.executable, str(Path(__file__).resolve()), str(os.getpid()), "--", *command]


class ChildFailed(RuntimeError):
    """The child server exited, or never said it was serving."""


class ChildServer:
    """One server process, e.g. `chalice local`, that prints `ready_line` once it has bound its port.

    Start it from the main thread: Linux's death signal fires when the *thread* that forked it ends."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        ready_line: str,
        quiet: bool = False,
    ) -> None:
        self.name = name
        self._ready_line = ready_line.encode()
        self._quiet = quiet
        self._ready = threading.Event()
        self._tail: collections.deque[str] = collections.deque(maxlen=30)
        self.process = subprocess.Popen(
            guarded(command),
            cwd=cwd,
            # Unbuffered: its "Serving on" line must reach us when printed, not when a buffer fills.
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, after Ctrl-C reached us
        )
        assert self.process.stdout is not None
        threading.Thread(
            target=self._relay, args=(self.process.stdout,), name=f"{name}-output", daemon=True
        ).start()

    def _relay(self, stream: IO[bytes]) -> None:
        """Passes the child's output on (unless quiet), watching for its ready line; keeps reading even when
        our stdout is gone (a closed terminal), so a full pipe never blocks the child."""
        out = getattr(sys.stdout, "buffer", None)
        for line in iter(stream.readline, b""):
            self._tail.append(line.decode(errors="replace").rstrip())
            if line.startswith(self._ready_line):
                self._ready.set()
            if out is not None and not self._quiet:
                with contextlib.suppress(OSError, ValueError):
                    out.write(line)
                    out.flush()

    def wait_serving(self, timeout: float) -> None:
        """Returns once the child said it serves; raises ChildFailed if it exited (a taken port) or was
        silent for `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.process.poll() is not None:
                self._ready.wait(0.5)  # its last lines, still in the pipe
                raise ChildFailed(self._failure(f"exited with code {self.process.returncode}"))
            if time.monotonic() > deadline:
                raise ChildFailed(self._failure(f"did not start serving within {timeout:.0f} s"))

    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def serving(self) -> bool:
        """It said it serves, so the port was its own (else the port belongs to whoever else holds it)."""
        return self._ready.is_set()

    def _failure(self, what: str) -> str:
        lines = [line for line in self._tail if line.strip()]
        last = lines[-1] if lines else "(no output)"
        return f"{self.name} {what}: {last}"

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to its whole process group, SIGKILL after `timeout`; never raises, safe to call twice."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)
            try:
                self.process.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 60.0, server: ChildServer | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server is not None and not server.alive():
            raise ChildFailed(f"{server.name} exited before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port_free(port: int, timeout: float = 5.0) -> bool:
    """True once nothing accepts connections on 127.0.0.1:`port` (False after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while port_in_use(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


if __name__ == "__main__":
    _exec_guarded(sys.argv[1:])
