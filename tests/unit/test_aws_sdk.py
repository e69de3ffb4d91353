"""chalicelib/core/aws_sdk.py: botocore finds a service by looking at its folder, with the same answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError

from chalicelib.core.aws_sdk import ServiceLoader, create_loader, install

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loader() -> ServiceLoader:
    return ServiceLoader()


@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"])
def test_every_service_botocore_lists_is_found_and_the_list_is_botocores(
    loader: ServiceLoader, type_name: str
) -> None:
    every = botocore.loaders.Loader().list_available_services(type_name)
    services = loader.list_available_services(type_name)
    assert every and all(name in services for name in every)
    assert list(services) == every and len(services) == len(every) and services[0] == every[0]


@pytest.mark.parametrize(
    "name", ["no-such-service", "", ".", "..", "../data", f"dynamodb{os.sep}2012-08-10", None, 3]
)
def test_names_botocore_does_not_list_are_not_found(loader: ServiceLoader, name: object) -> None:
    assert name not in loader.list_available_services("service-2")


def test_a_service_without_that_model_type_is_not_found(loader: ServiceLoader) -> None:
    # A service botocore lists for service-2 but not for waiters-2.
    every = set(botocore.loaders.Loader().list_available_services("service-2"))
    with_waiters = set(botocore.loaders.Loader().list_available_services("waiters-2"))
    without = sorted(every - with_waiters)[0]
    assert without in loader.list_available_services("service-2")
    assert without not in loader.list_available_services("waiters-2")


def test_aws_data_path_folders_are_searched_first_as_botocore_does(tmp_path: Path) -> None:
    extra = tmp_path / "models"
    (extra / "mall-test" / "2026-01-01").mkdir(parents=True)
    (extra / "mall-test" / "2026-01-01" / "service-2.json").write_text("{}")
    ours, theirs = create_loader(str(extra)), botocore.loaders.create_loader(str(extra))
    assert ours.search_paths == theirs.search_paths
    assert "mall-test" in ours.list_available_services("service-2")
    assert "mall-test" in theirs.list_available_services("service-2")


def test_installed_sessions_create_clients_and_refuse_unknown_services() -> None:
    # In a child: install() changes botocore for the whole process.
    child = """
import botocore.session
from botocore.exceptions import UnknownServiceError
from chalicelib.core.aws_sdk import ServiceLoader, install
install()
session = botocore.session.get_session()
assert isinstance(session.get_component("data_loader"), ServiceLoader)
keys = {"aws_access_key_id": "x", "aws_secret_access_key": "y"}
client = session.create_client("dynamodb", region_name="eu-west-1", **keys)
assert client.meta.service_model.service_name == "dynamodb"
try:
    session.create_client("no-such-service", region_name="eu-west-1")
except UnknownServiceError as error:
    assert "dynamodb" in str(error), "the error still lists the known services"
else:
    raise AssertionError("an unknown service was created")
assert "s3" in session.get_available_services()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_app_installs_it_before_pynamodb_opens_a_session() -> None:
    import chalicelib.core.db  # noqa: F401  (installs on import)

    assert botocore.session.create_loader is create_loader  # type: ignore[attr-defined]
    assert install is not None
    with pytest.raises(UnknownServiceError):
        botocore.session.get_session().create_client("no-such-service", region_name="eu-west-1")
