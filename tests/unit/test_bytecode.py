"""The deployed package ships bytecode for the Lambda's Python (tools/bytecode.py): hash-based pycs, valid
whatever file times the zip carries: unchecked for the pinned dependencies and chalice, checked for app.py
and chalicelib, and none that differs from the source beside it."""

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


def _hash_based_of(pyc: Path, source: Path, checked: bool = True) -> bool:
    """PEP 552 header: flags 0b11 = hash-based and checked, 0b01 = hash-based, unchecked; then the
    source's hash."""
    header = pyc.read_bytes()[:16]
    flags = int.from_bytes(header[4:8], "little")
    return flags == (0b11 if checked else 0b01) and header[8:16] == importlib.util.source_hash(
        source.read_bytes()
    )


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
def test_vendor_holds_hash_based_bytecode_of_what_the_package_imports(vendor: Path, source: str) -> None:
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
    # Our own app.py is edited: checked against its source on import. The wheels' files are not.
    assert _hash_based_of(pyc, origin, checked=source == "app.py")
    assert not any(vendor.rglob("*.py")), "vendor/ adds bytecode only: the sources come from the wheels"


def test_bytecode_of_a_removed_module_is_removed(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "app.py").write_text("")
    package = tmp_path / "chalicelib"
    package.mkdir()
    (package / "kept.py").write_text("x = 1\n")
    (package / "removed.py").write_text("x = 2\n")
    bytecode.build(vendor=tmp_path / "vendor", project=tmp_path)
    (package / "removed.py").unlink()
    bytecode.build(vendor=tmp_path / "vendor", project=tmp_path)
    assert sorted(p.name for p in (package / "__pycache__").iterdir()) == [f"kept.{TAG}.pyc"]


def test_chalicelib_is_compiled_in_place_as_checked_hash(vendor: Path) -> None:
    source = ROOT / "chalicelib" / "core" / "db.py"
    assert _hash_based_of(Path(importlib.util.cache_from_source(str(source))), source)
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
    # Every pyc the package ships matches the source beside it: none would run other code (unchecked).
    assert bytecode.stale(task) == []
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


def test_a_pyc_that_differs_from_its_source_is_reported_stale(tmp_path: Path) -> None:
    import py_compile

    for name, text in (("fresh", "x = 1\n"), ("edited", "x = 1\n"), ("timestamped", "x = 1\n")):
        (tmp_path / f"{name}.py").write_text(text)
        mode = py_compile.PycInvalidationMode.TIMESTAMP if name == "timestamped" else bytecode.UNCHECKED
        py_compile.compile(
            str(tmp_path / f"{name}.py"),
            cfile=importlib.util.cache_from_source(str(tmp_path / f"{name}.py")),
            invalidation_mode=mode,
        )
    (tmp_path / "edited.py").write_text("x = 2\n")
    assert bytecode.stale(tmp_path) == [
        f"__pycache__/edited.{TAG}.pyc",
        f"__pycache__/timestamped.{TAG}.pyc",
    ]


def test_build_refuses_a_virtualenv_that_differs_from_the_pins(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pynamodb==0.0.1\n")
    with pytest.raises(SystemExit, match=r"pynamodb .* is installed, requirements.txt pins 0\.0\.1"):
        bytecode.build(vendor=tmp_path / "vendor", project=tmp_path)
    assert not (tmp_path / "vendor").exists()


def test_pins_are_read_with_their_versions() -> None:
    pins = dict(bytecode.pinned_distributions())
    assert pins["pynamodb"] == "6.1.0" and pins["botocore"].count(".") == 2
