"""Shards of the due-work indexes: the same id always lands in the same shard, in every process, and ids
spread evenly enough that no shard takes much more than its share of the writes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from chalicelib.core.db import shard_of, shard_partitions


def test_a_shard_is_stable_across_processes() -> None:
    ids = [f"ord_{n:06d}" for n in range(20)]
    here = [shard_of(i, 8) for i in ids]
    code = f"from chalicelib.core.db import shard_of; print([shard_of(i, 8) for i in {ids!r}])"
    # A new interpreter has another hash() salt: a shard must not depend on it.
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert there.strip() == str(here)


def test_ids_spread_evenly_over_the_shards() -> None:
    counts = Counter(shard_of(f"ord_{n:06d}", 8) for n in range(8000))
    assert sorted(counts) == list(range(8))
    assert max(counts.values()) < 1.15 * 1000 and min(counts.values()) > 0.85 * 1000


def test_every_partition_of_a_sharded_key_is_listed() -> None:
    assert shard_partitions("HOLDS#pending_payment#{shard}", 3) == [
        "HOLDS#pending_payment#0",
        "HOLDS#pending_payment#1",
        "HOLDS#pending_payment#2",
    ]
