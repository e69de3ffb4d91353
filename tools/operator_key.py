"""Admin tool: issue an operator API key for a deployed stage and print it once.

    python -m tools.operator_key --stage prod

Uses your AWS credentials (the operator's, not the Lambda's); reads the stage's table name from
.chalice/config.json. Only the key's SHA-256 digest is stored.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def table_name_for(stage: str) -> str:
    stages = json.loads(CONFIG.read_text())["stages"]
    if stage not in stages:
        raise SystemExit(f"unknown stage {stage!r}; known: {', '.join(sorted(stages))}")
    return str(stages[stage]["environment_variables"]["TABLE_NAME"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    os.environ["TABLE_NAME"] = table_name_for(args.stage)  # read by the models at import, below

    from chalicelib.auth.service import create_operator_key

    print(create_operator_key())


if __name__ == "__main__":
    main()
