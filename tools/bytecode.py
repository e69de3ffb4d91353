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

All as checked-hash pycs (PEP 552): valid whatever file times the zip carries (chalice stamps 1980-01-01,
which defeats the default timestamp check), and Python checks each against its source's hash, so a pyc
that is out of date (a module edited after this ran, a wheel that differs) is compiled again, never run
stale. Python keeps a checked-hash pyc checked-hash when it recompiles one, so test runs keep chalicelib's
valid. vendor/ and __pycache__/ are ignored by git; chalice hashes vendor/ into its package name, so a
change here builds a new package.
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
MODE = py_compile.PycInvalidationMode.CHECKED_HASH
_METADATA = (".dist-info", ".data")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def pinned_distributions(requirements: Path = ROOT / "requirements.txt") -> list[str]:
    names = []
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            names.append(match.group(1))
    return names


def _compile(source: Path, relative: Path, out_root: Path, written: set[Path] | None = None) -> bool:
    """source -> out_root/<relative's folder>/__pycache__/<name>.<cache tag>.pyc (written atomically by
    py_compile); False if it does not compile (a file of a package never imported on this Python)."""
    target = out_root / importlib.util.cache_from_source(relative.as_posix())
    try:
        py_compile.compile(
            str(source), cfile=str(target), dfile=relative.as_posix(), doraise=True, invalidation_mode=MODE
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
    for name in pinned_distributions(project / "requirements.txt"):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            if file.suffix == ".py" and ".." not in file.parts and not file.parts[0].endswith(_METADATA):
                source = Path(distribution.locate_file(file))
                counts["dependencies"] += _compile(source, Path(file), vendor, written)
    import chalice
    import chalice.app

    # What chalice packages of itself (packager._iter_app_filenames): these two modules only.
    for module in (chalice, chalice.app):
        source = Path(str(module.__file__))
        counts["chalice"] += _compile(source, Path("chalice") / source.name, vendor, written)
    counts["app"] += _compile(project / "app.py", Path("app.py"), vendor, written)
    for source in sorted((project / "chalicelib").rglob("*.py")):
        counts["chalicelib"] += _compile(source, source.relative_to(project), project)
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
