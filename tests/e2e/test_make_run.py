"""`make run` itself: `python -m tools.local_stack` in a subprocess, as the Makefile runs it.

"Running it twice works" and "Ctrl-C stops everything": two runs in a row on the same ports and the same
keys file, each serving the demo mall and stopped by SIGINT, leaving no process, port or keys file behind.
A second `make run` while one is running is refused without harming the first, and Ctrl-C in the middle of
starting up stops everything too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

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
