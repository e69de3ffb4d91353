"""The deployed package ships bytecode for the Lambda's Python (tools/bytecode.py): checked-hash pycs, valid
whatever file times the zip carries, for the dependencies, chalice, app.py and chalicelib."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import bytecode

ROOT = Path(__file__).resolve().parents[2]
TAG = sys.implementation.cache_tag


def _checked_hash_of(pyc: Path, source: Path) -> bool:
    """PEP 552 header: flags 0b11 = hash-based and checked; then the source's hash."""
    header = pyc.read_bytes()[:16]
    flags = int.from_bytes(header[4:8], "little")
    return flags == 0b11 and header[8:16] == importlib.util.source_hash(source.read_bytes())


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vendor")
    counts = bytecode.build(vendor=out)
    assert counts["dependencies"] > 1000 and counts["chalice"] == 2 and counts["app"] == 1
    return out


@pytest.mark.parametrize(
    "source",
    ["botocore/client.py", "pynamodb/models.py", "msgspec/__init__.py", "chalice/app.py", "app.py"],
)
def test_vendor_holds_checked_hash_bytecode_of_what_the_package_imports(vendor: Path, source: str) -> None:
    pyc = vendor / importlib.util.cache_from_source(source)
    assert pyc.name.endswith(f".{TAG}.pyc")
    origin = ROOT / "app.py" if source == "app.py" else None
    if origin is None:
        import chalice

        top = source.split("/")[0]
        origin = (
            Path(chalice.__file__).parent / Path(source).name
            if top == "chalice"
            else Path(importlib.util.find_spec(top).origin).parent / Path(*Path(source).parts[1:])  # type: ignore[arg-type]
        )
    assert _checked_hash_of(pyc, origin)
    assert not any(vendor.rglob("*.py")), "vendor/ adds bytecode only: the sources come from the wheels"


def test_chalicelib_is_compiled_in_place_as_checked_hash(vendor: Path) -> None:
    source = ROOT / "chalicelib" / "core" / "db.py"
    assert _checked_hash_of(Path(importlib.util.cache_from_source(str(source))), source)
    assert not (vendor / "chalicelib").exists()  # chalice zips chalicelib/ with its __pycache__ itself


def test_the_deployed_package_compiles_nothing_on_a_catalogue_cold_start(tmp_path: Path) -> None:
    """`chalice package` (what `chalice deploy` uploads), unzipped read-only, `import app` with -B: every
    module imported from the package comes from its bytecode."""
    bytecode.main([])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": os.devnull}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    chalice = Path(sys.executable).parent / "chalice"
    done = subprocess.run(
        [str(chalice), "package", "--stage", "prod", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    task = tmp_path / "task"
    with zipfile.ZipFile(tmp_path / "out" / "deployment.zip") as package:
        package.extractall(task)
    # Any module compiled from source would show up in sys.modules with no cached bytecode used:
    # SourceFileLoader records which file it read the code from; we compare against __cached__.
    probe = (
        "import sys, json\n"
        "sys.path[:] = [sys.argv[1]] + [p for p in sys.path if 'site-packages' not in p]\n"
        "import importlib.machinery as m\n"
        "compiled = []\n"
        "original = m.SourceFileLoader.source_to_code\n"
        "def spy(self, data, path, *a, **k):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, *a, **k)\n"
        "m.SourceFileLoader.source_to_code = spy\n"
        "import app\n"
        "print(json.dumps(compiled))\n"
    )
    env = dict(os.environ)
    ran = subprocess.run(
        [sys.executable, "-B", "-I", "-c", probe, str(task)],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    compiled = [
        p for p in __import__("json").loads(ran.stdout.strip().splitlines()[-1]) if p.startswith(str(task))
    ]
    assert not compiled, f"compiled from source on a cold start: {compiled[:10]}"
