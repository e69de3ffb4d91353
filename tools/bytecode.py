"""Bytecode for the Lambda's Python in what `chalice deploy` uploads, so a cold start compiles nothing.

    python -m tools.bytecode        # run with the Python `chalice deploy` runs with (it picks the runtime)

Lambda's task directory is read-only: a package without bytecode compiles botocore, PynamoDB, Chalice and
chalicelib from source on every cold start (about 1.3 s of a 2 s catalogue cold start, bench.coldstart).
Chalice builds the deployment zip from requirements.txt (wheels, sources only), app.py, chalicelib/ with
whatever it holds, chalice's own app.py and __init__.py, and everything under vendor/ at the zip's root.
So this writes:

* vendor/<package>/__pycache__/*.pyc for every .py of every distribution pinned in requirements.txt (the
  versions the Lambda gets; compiled from this virtualenv's copy of them), for chalice/ and for app.py;
* chalicelib/**/__pycache__/*.pyc in place (chalice zips chalicelib/ as it is; vendor/chalicelib would
  duplicate those entries).

All hash-based pycs (PEP 552), valid whatever file times the zip carries (chalice stamps 1980-01-01,
which defeats the default timestamp check):

* the pinned dependencies and chalice's two modules as *unchecked*-hash pycs: their sources are the
  wheels' files of the pinned versions, the same in the package as in this virtualenv, so Python need not
  read and hash each source on every cold start (2-3 ms of a catalogue cold start, bench.coldstart).
  `build()` refuses a virtualenv whose versions differ from the pins, and `stale(task)` (run on every
  `chalice package` by tests/unit/test_bytecode.py and by the benchmark) checks each packaged pyc
  against the source beside it: a pyc that would run other code than its source fails there;
* app.py and chalicelib/ as *checked*-hash pycs: we edit them, so Python checks each against its
  source's hash and compiles again any module edited after this ran, never running it stale. Python
  keeps a checked-hash pyc checked-hash when it recompiles one, so test runs keep chalicelib's valid.

vendor/ and __pycache__/ are ignored by git; chalice hashes vendor/ into its package name, so a change
here builds a new package.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import py_compile
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "vendor"
CHECKED = py_compile.PycInvalidationMode.CHECKED_HASH
UNCHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH
_METADATA = (".dist-info", ".data")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pinned_distributions(requirements: Path = ROOT / "requirements.txt") -> list[tuple[str, str]]:
    """(name, version) of every `name==version` line."""
    pins = []
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins.append((match.group(1), match.group(2)))
    return pins


def stale(task: Path) -> list[str]:
    """The pycs under `task` (an unzipped package) that do not match the source beside them: a checked
    one would be compiled again (slow), an unchecked one would run other code than its source (wrong)."""
    found = []
    for pyc in task.rglob(f"__pycache__/*.{sys.implementation.cache_tag}.pyc"):
        source = pyc.parent.parent / (pyc.name.split(".")[0] + ".py")
        header = pyc.read_bytes()[:16]
        hash_based = int.from_bytes(header[4:8], "little") & 0b1
        if (
            not source.exists()
            or not hash_based
            or header[8:16] != importlib.util.source_hash(source.read_bytes())
        ):
            found.append(str(pyc.relative_to(task)))
    return sorted(found)


def _compile(
    source: Path,
    relative: Path,
    out_root: Path,
    written: set[Path] | None = None,
    mode: py_compile.PycInvalidationMode = CHECKED,
) -> bool:
    """source -> out_root/<relative's folder>/__pycache__/<name>.<cache tag>.pyc (written atomically by
    py_compile); False if it does not compile (a file of a package never imported on this Python)."""
    target = out_root / importlib.util.cache_from_source(relative.as_posix())
    try:
        py_compile.compile(
            str(source), cfile=str(target), dfile=relative.as_posix(), doraise=True, invalidation_mode=mode
        )
    except py_compile.PyCompileError:
        return False
    if written is not None:
        written.add(target)
    return True


def build(vendor: Path = VENDOR, project: Path = ROOT) -> dict[str, int]:
    """Writes vendor/ and chalicelib's bytecode; returns how many modules of each part.

    In place, file by file (each write atomic), then what is no longer wanted is removed: a `chalice
    package` running meanwhile (another terminal, a test) never sees vendor/ missing or half written."""
    counts = {"dependencies": 0, "chalice": 0, "app": 0, "chalicelib": 0}
    written: set[Path] = set()
    for name, pinned in pinned_distributions(project / "requirements.txt"):
        distribution = importlib.metadata.distribution(name)
        if distribution.version != pinned:
            raise SystemExit(
                f"{name} {distribution.version} is installed, requirements.txt pins {pinned}:"
                " run `make test` (or pip install -r requirements.txt) first"
            )
        for file in distribution.files or []:
            if file.suffix == ".py" and ".." not in file.parts and not file.parts[0].endswith(_METADATA):
                source = Path(distribution.locate_file(file))
                counts["dependencies"] += _compile(source, Path(file), vendor, written, UNCHECKED)
    import chalice
    import chalice.app

    # What chalice packages of itself (packager._iter_app_filenames): these two modules only.
    for module in (chalice, chalice.app):
        source = Path(str(module.__file__))
        counts["chalice"] += _compile(source, Path("chalice") / source.name, vendor, written, UNCHECKED)
    counts["app"] += _compile(project / "app.py", Path("app.py"), vendor, written)
    for source in sorted((project / "chalicelib").rglob("*.py")):
        counts["chalicelib"] += _compile(source, source.relative_to(project), project)
    for pyc in (project / "chalicelib").rglob("__pycache__/*.pyc"):
        # A module removed since (a pull, a rename): chalice would still zip its bytecode.
        if not (pyc.parent.parent / (pyc.name.split(".")[0] + ".py")).exists():
            pyc.unlink(missing_ok=True)
    for path in sorted(vendor.rglob("*"), reverse=True):  # files before their folders
        if path.is_file() and path not in written:
            path.unlink(missing_ok=True)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
    counts = build()
    print(
        f"bytecode for {sys.implementation.cache_tag} (Lambda runtime python{sys.version_info[0]}."
        f"{sys.version_info[1]}): " + ", ".join(f"{n} {part}" for part, n in counts.items())
    )


if __name__ == "__main__":
    main()
