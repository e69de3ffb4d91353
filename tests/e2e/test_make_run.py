"""`make run` itself: `python -m tools.local_stack` in a subprocess, as the Makefile runs it.

"Running it twice works" and "Ctrl-C stops everything": two runs in a row on the same ports and the same
keys file, each serving the demo mall and stopped by SIGINT, leaving no process, port or keys file behind.
A second `make run` while one is running is refused without harming the first, and Ctrl-C in the middle of
starting up stops everything too. SIGTERM to the process group of `make run` (a supervisor, a closed
terminal: make forwards it, so the stack gets it twice) stops everything, three times in a row; a port taken
while the stack starts is a clear failure with a non-zero exit; and `chalice local` dies with the stack even
when the stack is killed outright. These runs start without demo data (MALL_DEMO=0): only starting and
stopping is tested, and seeding would cost ~30 s a run on 2 busy cores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.e2e.conftest import BANNER_END, ROOT, START_TIMEOUT_S, STOP_TIMEOUT_S, child_pids, process_alive
from tools.local_stack import free_port, port_in_use

if TYPE_CHECKING:
    from tests.e2e.conftest import StackProcess

    Launch = Callable[[int, int, Path, Path], StackProcess]

pytestmark = pytest.mark.e2e


def two_ports() -> tuple[int, int]:
    api_port = free_port()
    aws_port = free_port()
    while aws_port == api_port:
        aws_port = free_port()
    return api_port, aws_port


def get(url: str, key: str | None = None) -> Any:
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = session.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text[:500]}"
    return response.json()


def assert_serves_the_demo_mall(info: dict[str, Any], api_port: int, aws_port: int) -> None:
    assert info["api_url"] == f"http://127.0.0.1:{api_port}"
    assert info["aws_endpoint"] == f"http://127.0.0.1:{aws_port}"
    shops = get(f"{info['api_url']}/shops?limit=100")["items"]
    assert len(shops) >= 8
    assert info["retailer_shop_id"] in {shop["id"] for shop in shops}
    mine = get(f"{info['api_url']}/retailer/shop", key=info["retailer_key"])
    assert (mine["id"], mine["profile"]["name"]) == (info["retailer_shop_id"], info["retailer_shop_name"])
    operated = get(f"{info['api_url']}/operator/shops?limit=100", key=info["operator_key"])["items"]
    assert len(operated) == len(shops)


def test_make_run_twice_on_the_same_ports_and_ctrl_c_stops_everything(
    launch_stack: Launch, tmp_path: Path
) -> None:
    api_port, aws_port = two_ports()
    state_file = tmp_path / "local" / "stack.json"  # one keys file for both runs, like .local/stack.json
    runs: list[dict[str, Any]] = []
    for run in (1, 2):
        stack = launch_stack(api_port, aws_port, state_file, tmp_path / f"run{run}.log")
        info = stack.wait_ready()
        assert_serves_the_demo_mall(info, api_port, aws_port)
        banner = stack.log()
        for shown in (info["api_url"], info["operator_key"], info["retailer_key"], str(state_file)):
            assert shown in banner
        assert stack.children, "chalice local runs as a child process"

        if run == 1:
            # A second `make run` meanwhile is refused, and leaves the running one and its keys file alone.
            second = launch_stack(api_port, aws_port, state_file, tmp_path / "second.log")
            try:
                assert second.process.wait(timeout=second.STOP_TIMEOUT_S) == 1
            except subprocess.TimeoutExpired:
                pytest.fail(f"a second run on busy ports did not give up:\n{second.log()[-3000:]}")
            assert f"port {api_port} on 127.0.0.1 is in use" in second.log()
            assert state_file.exists(), "the refused run removed the running one's keys file"
            assert get(f"{info['api_url']}/shops?limit=1")["items"]

        # Ctrl-C: exit code 0 within STOP_TIMEOUT_S (else interrupt() fails the test), nothing left.
        assert stack.interrupt() == 0, stack.log()[-3000:]
        assert stack.log().rstrip().endswith("Stopped.")
        stack.assert_stopped()
        runs.append(info)

    # Every run starts from a fresh demo: new keys, new ids.
    assert runs[0]["operator_key"] != runs[1]["operator_key"]
    assert runs[0]["retailer_shop_id"] != runs[1]["retailer_shop_id"]


def test_ctrl_c_while_starting_stops_everything(launch_stack: Launch, tmp_path: Path) -> None:
    api_port, aws_port = two_ports()
    stack = launch_stack(api_port, aws_port, tmp_path / "stack.json", tmp_path / "stack.log")
    # moto answers first; then the stack is created and seeded, which takes seconds, before chalice starts.
    stack.wait_for(lambda: port_in_use(aws_port), "the moto server")
    assert stack.interrupt() == 0, stack.log()[-3000:]
    log = stack.log()
    assert "Stopped." in log
    assert "The digital mall runs locally." not in log, "SIGINT came too late to test an interrupted start"
    stack.assert_stopped()


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for parent in frontier for child in child_pids(parent)} - found
        found |= frontier
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stack_env(api_port: int, aws_port: int, state_file: Path) -> dict[str, str]:
    """A developer's environment (as tests/e2e/conftest.py builds it), an empty mall on these ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for name in ("STAGE", "TABLE_NAME", "IMAGE_BUCKET", "POWERTOOLS_LOG_LEVEL", "PAYMENT_GATEWAY"):
        env.pop(name, None)
    env.pop("STRIPE_WEBHOOK_SECRET", None)
    env.update(
        MALL_API_PORT=str(api_port),
        MALL_AWS_PORT=str(aws_port),
        MALL_STATE_FILE=str(state_file),
        MALL_DEMO="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def leftovers() -> Iterator[set[int]]:
    """Pids a test saw started; whatever of them still runs afterwards is killed (the test failed anyway)."""
    pids: set[int] = set()
    yield pids
    for pid in pids:
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


# -o: never reinstall the virtualenv from a test; BIN: the interpreter running the tests.
MAKE_RUN = [
    "make",
    "--no-print-directory",
    "-o",
    ".venv/.installed",
    "run",
    f"BIN={Path(sys.executable).parent}",
]


def stop_the_group_of_make_run(run: int, tmp_path: Path, leftovers: set[int], then: int | None) -> None:
    """Starts `make run` in its own process group, sends SIGTERM to the group, then optionally `then` 0.3 s
    later, and checks that nothing it started is left."""
    api_port, aws_port = two_ports()
    state_file, log_file = tmp_path / f"stack{run}.json", tmp_path / f"run{run}.log"
    with log_file.open("wb") as log:
        make = subprocess.Popen(
            MAKE_RUN,
            cwd=ROOT,
            env=stack_env(api_port, aws_port, state_file),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal or under a supervisor
        )
    leftovers.add(make.pid)

    def text() -> str:
        return log_file.read_text(errors="replace")

    banner = wait_until(lambda: BANNER_END in text() or make.poll() is not None, START_TIMEOUT_S)
    assert banner and make.poll() is None, f"run {run}: no banner\n{text()[-3000:]}"
    started = descendants(make.pid)
    leftovers.update(started)
    assert any("chalice" in cmdline(pid) and " local " in cmdline(pid) for pid in started), started

    os.killpg(make.pid, signal.SIGTERM)
    if then is not None:
        time.sleep(0.3)  # the stack is stopping by now
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, then)
    try:
        make.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"run {run}: make run still runs {STOP_TIMEOUT_S:.0f} s after SIGTERM\n{text()[-3000:]}")
    # Bounded: the stack stops chalice local and waits for its port before it says "Stopped.".
    gone = wait_until(lambda: not any(process_alive(pid) for pid in started), 5)
    left = {pid: cmdline(pid) for pid in started if process_alive(pid)}
    assert gone, f"run {run}: still running after SIGTERM to make run's group: {left}\n{text()[-3000:]}"
    busy = [port for port in (api_port, aws_port) if port_in_use(port)]
    assert not busy, f"run {run}: ports still answering: {busy}"
    assert text().rstrip().endswith("Stopped."), text()[-3000:]
    assert not state_file.exists()


@pytest.mark.skipif(shutil.which("make") is None or not Path("/proc").is_dir(), reason="needs make and /proc")
def test_sigterm_to_the_process_group_of_make_run_stops_everything_three_times_in_a_row(
    tmp_path: Path, leftovers: set[int]
) -> None:
    # It used to leave chalice local serving in about 1 stop of 3: make forwards SIGTERM to the stack, which
    # so gets it twice, and a second signal arriving during the cleanup cut it short. The third run makes that
    # certain: a SIGHUP (the terminal closing) follows while the stack stops.
    for run, then in ((1, None), (2, None), (3, signal.SIGHUP)):
        stop_the_group_of_make_run(run, tmp_path, leftovers, then)


class _Squatter(BaseHTTPRequestHandler):
    """Another server on the API port that answers everything, like an earlier make run would."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


def test_an_api_port_taken_while_the_stack_starts_fails_clearly_and_leaves_nothing(
    tmp_path: Path, leftovers: set[int]
) -> None:
    api_port, aws_port = two_ports()
    state_file, log_file = tmp_path / "stack.json", tmp_path / "stack.log"
    with log_file.open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "-m", "tools.local_stack"],
            cwd=ROOT,
            env=stack_env(api_port, aws_port, state_file),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    leftovers.add(stack.pid)
    # The ports were free when it checked them; moto answers, then the stack is created (seconds), and
    # only then chalice local starts: take the API port in between.
    assert wait_until(lambda: port_in_use(aws_port) or stack.poll() is not None, START_TIMEOUT_S)
    squatter = ThreadingHTTPServer(("127.0.0.1", api_port), _Squatter)
    threading.Thread(target=squatter.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while stack.poll() is None and time.monotonic() < deadline:
            leftovers.update(descendants(stack.pid))
            time.sleep(0.05)
        log_text = log_file.read_text(errors="replace")
        assert stack.poll() == 1, f"exit code {stack.poll()}\n{log_text[-3000:]}"
        assert "Address already in use" in log_text, log_text[-3000:]
        assert f"port {api_port} on 127.0.0.1 was taken while the stack started" in log_text, log_text[-3000:]
        assert "The digital mall runs locally." not in log_text
        left = {pid: cmdline(pid) for pid in leftovers if process_alive(pid)}
        assert not left, f"still running after the failed start: {left}"
        assert wait_until(lambda: not port_in_use(aws_port), 5), "moto still answers"
        assert not state_file.exists()
        assert get(f"http://127.0.0.1:{api_port}/") == {}, "the other server on the port was harmed"
    finally:
        squatter.shutdown()
        squatter.server_close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_api_server_dies_with_the_stack_even_when_the_stack_is_killed(leftovers: set[int]) -> None:
    """SIGKILL leaves no cleanup to run: the kernel must stop the child (tools/processes.py)."""
    script = (
        "import sys, time; from pathlib import Path; from tools.processes import ChildServer\n"
        "child = ChildServer('server', [sys.executable, '-c', 'import time; print(\"Serving on x\");"
        " time.sleep(60)'], cwd=Path('.'), env={}, ready_line='Serving on', quiet=True)\n"
        "child.wait_serving(timeout=30); print(child.process.pid, flush=True); time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    leftovers.add(parent.pid)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    leftovers.add(child)
    assert process_alive(child)
    parent.kill()
    parent.wait()
    assert wait_until(lambda: not process_alive(child), 5), f"{cmdline(child)} outlived its killed parent"
