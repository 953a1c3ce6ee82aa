"""The one way benchmarks write their rows to docs/results/*.csv."""

from __future__ import annotations

import csv
from pathlib import Path


def write_rows(path: Path, rows: list[dict], *, append: bool = False,
               fields: list[str] | None = None) -> None:
    """Write dict rows to ``path`` (a header first), or append them after its rows."""
    new = not (append and path.exists())
    with path.open("a" if append else "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)
    print(f"{'appended' if append else 'wrote'} {len(rows)} rows to {path}")
