"""requirements.txt, which `chalice deploy` packages into the Lambda, locks the whole runtime closure: every
distribution the runtime packages pull in (walked from the installed metadata) is pinned with ==, at the
version the tests run with, so the deployed botocore (and the rest) is the tested one."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _runtime_closure(roots: list[Requirement]) -> set[str]:
    """Canonical names of the roots and everything they require in this environment (no extras)."""
    seen: set[str] = set()
    todo = [r.name for r in roots]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            # Optional extras ("extra == ...") are not installed by `chalice deploy`.
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def test_every_runtime_distribution_is_pinned_at_the_tested_version() -> None:
    requirements = _requirements(ROOT / "requirements.txt")
    pins = {canonicalize_name(r.name): r for r in requirements}
    closure = _runtime_closure(requirements)

    unpinned = sorted(name for name in closure if name not in pins)
    assert not unpinned, f"pulled in at runtime but not locked in requirements.txt: {unpinned}"
    loose = sorted(str(r) for r in pins.values() if [s.operator for s in r.specifier] != ["=="])
    assert not loose, f"not pinned with ==: {loose}"
    drift = {
        name: (str(pins[name].specifier), metadata.version(name))
        for name in closure
        if metadata.version(name) not in pins[name].specifier
    }
    assert not drift, f"requirements.txt differs from the tested environment: {drift}"
    # Nothing stale either: every pin is still needed by the runtime.
    assert set(pins) == closure, sorted(set(pins) - closure)


def test_dev_requirements_include_the_runtime_lock() -> None:
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
