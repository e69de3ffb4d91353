"""The partition arithmetic `python -m bench.notifications` prints (README, "Notifications"): pure, so
held here to what the README states."""

from __future__ import annotations

from bench.notifications import PARTITION_WCU_PER_S, SHARDS, partition_math


def test_ten_thousand_orders_an_hour_stay_far_below_a_partitions_limit_on_every_shard() -> None:
    math = partition_math(10_000)
    webhooks = math["indexes"]["WEBHOOKS#due"]
    assert webhooks["wcu_per_s_peak_one_partition"] == 200.0  # the README's ~200 write units/s
    assert webhooks["wcu_per_s_peak_per_shard"] < 30
    assert webhooks["orders_per_hour_at_limit_one_partition"] == 150_000
    for row in math["indexes"].values():
        assert row["wcu_per_s_peak_per_shard"] < row["wcu_per_s_peak_one_partition"] / SHARDS * 1.2
        assert row["wcu_per_s_peak_one_partition"] < PARTITION_WCU_PER_S
        assert row["orders_per_hour_at_limit_sharded"] > 6 * row["orders_per_hour_at_limit_one_partition"]


def test_the_writes_scale_with_the_order_rate() -> None:
    small, large = partition_math(10_000), partition_math(100_000)
    for name, row in small["indexes"].items():
        scaled = large["indexes"][name]["wcu_per_s_one_partition"]
        assert abs(scaled - 10 * row["wcu_per_s_one_partition"]) < 1
