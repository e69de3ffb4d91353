"""End-to-end fixtures: the whole local stack, exactly as `make run` starts it, driven over real HTTP.

The stack runs in a subprocess (`python -m tools.local_stack`), never in this process: it rewrites
os.environ (AWS_ENDPOINT_URL...), which would point the moto-in-process functional tests running later in
the same session at a server that is gone. Its ports are free loopback ports and its keys file a temporary
path (MALL_STATE_FILE), so it runs next to a developer's own `make run` without touching it.

One stack serves the whole session (storefront, retailer and operator tests); tests/e2e/test_make_run.py
starts and stops its own to check `make run` itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools.local_stack import free_port, port_in_use

ROOT = Path(__file__).resolve().parents[2]
# A seeded stack is up in ~10-30 s (moto, CloudFormation, 14 shops with their products and photos); more on
# a busy machine, hence the override.
START_TIMEOUT_S = float(os.environ.get("MALL_E2E_START_TIMEOUT", "150"))
STOP_TIMEOUT_S = 20.0
HTTP_TIMEOUT_S = 30.0
BANNER_END = "Ctrl-C stops everything."
# Set by tests/conftest.py for the moto-in-process tests; `make run` starts from a developer's ordinary
# environment, so the stack must not inherit them.
# (AWS_* are dropped wholesale.) Keep in step with tests/conftest.py.
_TEST_ONLY_ENV = frozenset(
    {"STAGE", "TABLE_NAME", "IMAGE_BUCKET", "POWERTOOLS_LOG_LEVEL", "PAYMENT_GATEWAY"}
    | {"STRIPE_WEBHOOK_SECRET"}
)


def two_free_ports() -> tuple[int, int]:
    api_port = free_port()
    aws_port = free_port()
    while aws_port == api_port:
        aws_port = free_port()
    return api_port, aws_port


def child_pids(pid: int) -> set[int]:
    """Direct children of `pid`, read from /proc (Linux); empty where there is no /proc."""
    children: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        if len(fields) > 1 and fields[1] == str(pid):
            children.add(int(stat.parent.name))
    return children


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def _reset_sigint() -> None:
    # A shell that starts pytest in the background may leave SIGINT ignored, which a child inherits;
    # Ctrl-C in a terminal reaches `make run` with the default disposition, so the tests give it that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class StackProcess:
    """One run of `python -m tools.local_stack`, as `make run` runs it, with its output in a log file."""

    START_TIMEOUT_S = START_TIMEOUT_S
    STOP_TIMEOUT_S = STOP_TIMEOUT_S

    def __init__(self, api_port: int, aws_port: int, state_file: Path, log_file: Path) -> None:
        self.api_port = api_port
        self.aws_port = aws_port
        self.state_file = state_file
        self.log_file = log_file
        self.children: set[int] = set()
        self.info: dict[str, Any] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in _TEST_ONLY_ENV}
        env.update(
            MALL_API_PORT=str(api_port),
            MALL_AWS_PORT=str(aws_port),
            MALL_STATE_FILE=str(state_file),
            # The web apps on any free ports: tests run next to a developer's `make run` (8080, 8081).
            MALL_STOREFRONT_PORT="0",
            MALL_BACK_OFFICE_PORT="0",
            PYTHONUNBUFFERED="1",
        )
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tools.local_stack"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_reset_sigint,
            )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"the stack exited ({code}) before {what}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {timeout:.0f} s:\n{self.log()[-4000:]}")
            time.sleep(0.1)

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Waits for the banner and the keys file; returns the keys file."""
        self.wait_for(
            lambda: self.state_file.exists() and BANNER_END in self.log(), "banner and keys file", timeout
        )
        self.info = json.loads(self.state_file.read_text())
        self.children = child_pids(self.process.pid)
        return self.info

    def interrupt(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """Ctrl-C: SIGINT to the stack's own process (chalice runs in its own session, as in a terminal)."""
        self.children |= child_pids(self.process.pid)
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the stack did not stop within {timeout:.0f} s of SIGINT:\n{self.log()[-4000:]}")

    def assert_stopped(self) -> None:
        """Nothing the stack started is left: no process, no listening port, no keys file."""
        assert self.process.poll() is not None
        busy = [port for port in (self.api_port, self.aws_port) if port_in_use(port)]
        assert not busy, f"ports still answering after the stack stopped: {busy}\n{self.log()[-2000:]}"
        left = sorted(pid for pid in self.children if process_alive(pid))
        assert not left, f"child processes left running: {left}"
        assert not self.state_file.exists(), "the keys file outlived the stack"

    def kill(self) -> None:
        """Last resort after a failed test: stop the stack and whatever it started, by pid."""
        if self.process.poll() is None:
            self.children |= child_pids(self.process.pid)
            self.process.terminate()  # SIGTERM: the stack stops like on Ctrl-C
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.children:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def _explain(method: str, path: str, response: requests.Response) -> str:
    return f"{method} {path}: {response.status_code} {response.text[:800]}"


class Api:
    """JSON over real HTTP to the stack's API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy between us and 127.0.0.1

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        sent = {"Content-Type": "application/json"} if body is not None or raw is not None else {}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.session.request(
            method, self.base_url + path, params=params, data=data, headers=sent, timeout=HTTP_TIMEOUT_S
        )

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, _explain(method, path, response)
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.ok("GET", path, **kwargs)

    def error(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        """Calls a route that must fail with `status`; returns the JSON error object."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, _explain(method, path, response)
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()["error"]

    def walk(
        self, path: str, *, page_size: int, params: dict[str, Any] | None = None, key: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Every item of a paginated list, following next_cursor; returns (items, pages)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        pages = 0
        while True:
            query = {**(params or {}), "limit": page_size} | ({"cursor": cursor} if cursor else {})
            page = self.get(path, params=query, key=key)
            pages += 1
            assert len(page["items"]) <= page_size
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 200, f"{path} never stops paginating"
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)), f"{path}: an item came back on two pages"
        return items, pages


@pytest.fixture
def launch_stack() -> Iterator[Callable[[int, int, Path, Path], StackProcess]]:
    """Starts stacks: launch_stack(api_port, aws_port, state_file, log_file). Whatever a failing test leaves
    running is stopped afterwards."""
    started: list[StackProcess] = []

    def _launch(api_port: int, aws_port: int, state_file: Path, log_file: Path) -> StackProcess:
        started.append(StackProcess(api_port, aws_port, state_file, log_file))
        return started[-1]

    yield _launch
    for running in started:
        running.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The seeded local stack for the whole session; on teardown Ctrl-C must stop all of it."""
    workdir = tmp_path_factory.mktemp("stack")
    api_port, aws_port = two_free_ports()
    running = StackProcess(api_port, aws_port, workdir / "stack.json", workdir / "stack.log")
    try:
        running.wait_ready()
        yield running
        assert running.interrupt() == 0, running.log()[-4000:]
        running.assert_stopped()
    finally:
        running.kill()


@pytest.fixture(scope="session")
def info(stack: StackProcess) -> dict[str, Any]:
    return stack.info


@pytest.fixture(scope="session")
def api(stack: StackProcess) -> Api:
    return Api(stack.info["api_url"])
