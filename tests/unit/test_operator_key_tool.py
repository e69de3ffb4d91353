"""The admin tool reads the stage's table from .chalice/config.json and refuses unknown stages."""

from __future__ import annotations

import pytest

from tools.operator_key import table_name_for


def test_table_name_comes_from_the_stage_config() -> None:
    assert table_name_for("prod") == "digital-mall-prod"
    assert table_name_for("dev") == "digital-mall-dev"


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown stage"):
        table_name_for("staging-that-does-not-exist")
