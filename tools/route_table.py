"""Writes chalicelib/api/route_table.py: every route the route modules declare, for app.py to register
without importing them (chalicelib/api/routes.py).

    python -m tools.route_table          # after adding, removing or changing a route

tests/unit/test_route_table.py fails, naming this command, when the file and the declarations differ.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "chalicelib" / "api" / "route_table.py"

_HEADER = '''"""Every route of the API: (route module, method, path, view name, request content types).

Written by `python -m tools.route_table` from the route modules' @endpoint declarations: do not edit.
app.py registers these without importing the modules (chalicelib/api/routes.py).
"""

ROUTE_TABLE: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
'''


def render() -> str:
    from chalicelib.api.routes import table_rows

    rows = "".join(f"    {_row(*row)},\n" for row in table_rows())
    return _HEADER + rows + ")\n"


def _row(module: str, method: str, path: str, name: str, content_types: tuple[str, ...]) -> str:
    quoted = ", ".join(json.dumps(value) for value in (module, method, path, name))
    types = "".join(f"{json.dumps(t)}, " for t in content_types).rstrip(" ")
    return f"({quoted}, ({types}))"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
    text = render()
    changed = not TABLE.exists() or TABLE.read_text() != text
    TABLE.write_text(text)
    routes = text.count("\n    (")
    print(f"{TABLE.relative_to(ROOT)}: {routes} routes" + (" (rewritten)" if changed else " (unchanged)"))


if __name__ == "__main__":
    main()
