"""botocore sessions that find one service's model without first listing every service botocore knows.

Before it loads a service's model, botocore checks the name against `list_available_services`, which walks
all of its ~450 service folders (about 2,700 file-system calls: 6-7 ms for each model type, two types per
client, in every new session). PynamoDB opens a session per thread and our adapters one per client, so
each cold start paid it at least once: 13 ms of a catalogue cold start's 170 (bench/coldstart.py).

`install()` (called where the SDK is first imported, chalicelib/core/db.py) makes botocore's sessions use
`ServiceLoader`, which answers the same question by looking at that one service's folder. Anything else
that asks for the whole list (iterating it, its length) gets botocore's own answer, computed once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import botocore.loaders
import botocore.session


class ServicesOnDisk(Sequence[str]):
    """What `Loader.list_available_services(type_name)` returns: the same services in the same order, but
    `name in services` looks only in `name`'s folders, as botocore's full walk would for that name."""

    def __init__(self, loader: ServiceLoader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name
        self._every: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
            return False
        for root in self._loader.search_paths:
            folder = os.path.join(root, name)
            if not os.path.isdir(folder):
                continue
            for version in os.listdir(folder):
                if self._loader.file_loader.exists(os.path.join(folder, version, self._type_name)):
                    return True
        return False

    def _all(self) -> list[str]:
        if self._every is None:
            self._every = self._loader.list_every_service(self._type_name)
        return self._every

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())


class ServiceLoader(botocore.loaders.Loader):
    def list_available_services(self, type_name: str) -> ServicesOnDisk:  # type: ignore[override]
        return ServicesOnDisk(self, type_name)

    def list_every_service(self, type_name: str) -> list[str]:
        """botocore's own walk of every service folder."""
        return list(super().list_available_services(type_name))


def create_loader(search_path_string: str | None = None) -> ServiceLoader:
    """botocore.loaders.create_loader, with our loader: AWS_DATA_PATH's folders searched first."""
    if search_path_string is None:
        return ServiceLoader()
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
    return ServiceLoader(extra_search_paths=paths)


def install() -> None:
    """Every botocore session created from now on (PynamoDB's, ours) loads service models this way."""
    # botocore.session looks this factory up by name when a session first needs its data loader.
    botocore.session.create_loader = create_loader  # type: ignore[attr-defined]
