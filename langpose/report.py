"""Result files: atomic JSON writes and markdown tables (numbers in mm / %, ``n/a`` for None).

Everything here is plain data in, text or files out:

- ``fmt(value)``: one table cell: ``None`` -> ``n/a``, floats with a fixed number of
  decimals, a ``(mean, std)`` pair or a ``{"mean", "std"}`` dict -> ``mean ± std``;
- ``markdown_table(header, rows)``: a GitHub-flavoured markdown table;
- ``results_markdown(results)``: the tables of one ``langpose.evaluate.evaluate`` (and,
  when present, ``robustness``) result;
- ``write_json`` / ``write_text`` / ``write_results``: atomic (temp file, then rename).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from langpose.atomic import atomic_write

__all__ = ["fmt", "markdown_table", "results_markdown", "write_text", "write_json", "write_results", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data: numpy scalars/arrays and tuples converted; NaN/inf become None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, then ``os.replace``)."""
    path = Path(path)
    with atomic_write(path, "w") as f:
        f.write(text)
    return path


def write_json(obj: Any, path) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def fmt(value: Any, digits: int = 1) -> str:
    """One table cell. None/NaN -> 'n/a'; number -> fixed decimals; (mean, std) -> 'mean ± std'."""
    if value is None:
        return "n/a"
    if isinstance(value, dict) and "mean" in value:
        if value.get("std") is None:
            return fmt(value["mean"], digits)
        value = (value["mean"], value["std"])
    if isinstance(value, (tuple, list)) and len(value) == 2:
        m, s = value
        if m is None:
            return "n/a"
        return f"{fmt(m, digits)} ± {fmt(s, digits)}"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "n/a" if not math.isfinite(float(value)) else f"{float(value):.{digits}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], digits: int = 1) -> str:
    """A markdown table: ``| a | b |`` header, ``|---|---|`` rule, one line per row.

    Cells go through ``fmt``; every row must have as many cells as the header.
    """
    header = [str(h) for h in header]
    if not header:
        raise ValueError("markdown_table: empty header")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"markdown_table: row {i} has {len(row)} cells, header has {len(header)}")
        lines.append("| " + " | ".join(fmt(c, digits) for c in row) + " |")
    return "\n".join(lines) + "\n"


_PROTOCOLS = (("p1", "P1 MPJPE (mm)"), ("p2", "P2 P-MPJPE (mm)"), ("n_mpjpe", "N-MPJPE (mm)"), ("mpjve", "MPJVE (mm/frame)"))


def results_markdown(results: dict, title: str | None = None) -> str:
    """Markdown for an evaluation result: protocols, recognition/retrieval, per action, robustness.

    ``results`` is ``evaluate(...)`` output, optionally with a ``"robustness"`` entry from
    ``robustness(...)``; a dict of several such results keyed by dataset name also works.
    """
    if results and all(isinstance(v, dict) and "p1" in v for v in results.values()):
        parts = [f"# {title}\n" if title else ""]
        for name, res in results.items():
            parts.append(results_markdown(res, title=None if name is None else f"## {name}").strip("\n") + "\n")
        return "\n".join(p for p in parts if p)
    out = [f"{title}\n"] if title else []
    out.append(markdown_table(["metric", "value"],
                              [(label, results.get(key)) for key, label in _PROTOCOLS]
                              + [("action top-1 (%)", results.get("top1")), ("action top-5 (%)", results.get("top5")),
                                 ("text→motion R@1 (%)", results.get("r1")), ("text→motion R@5 (%)", results.get("r5"))]))
    per_action = results.get("per_action") or {}
    if per_action:
        out.append("\nPer action (mm):\n\n")
        out.append(markdown_table(["action"] + [label for _, label in _PROTOCOLS],
                                  [[a] + [m.get(k) for k, _ in _PROTOCOLS] for a, m in per_action.items()]))
    rob = results.get("robustness")
    if rob:
        out.append("\nRobustness (P1, mm):\n\n")
        out.append(robustness_markdown(rob))
    return "".join(out)


def robustness_markdown(rob: dict) -> str:
    """Table of a ``robustness(...)`` result: condition, P1 all joints, P1 hidden joints, % hidden."""
    conds = rob.get("conditions", rob)
    rows = []
    for name, r in conds.items():
        if not isinstance(r, dict):
            continue
        frac = r.get("hidden_fraction")
        rows.append((name, r.get("p1"), r.get("p1_hidden"), None if frac is None else 100.0 * frac))
    return markdown_table(["condition", "P1 all joints", "P1 hidden joints", "hidden (%)"], rows)


def write_results(results: dict, out_dir, name: str = "results", title: str | None = None) -> dict:
    """Write ``out_dir/<name>.json`` and ``out_dir/<name>.md`` atomically; returns their paths."""
    out_dir = Path(out_dir)
    json_path = write_json(results, out_dir / f"{name}.json")
    md_path = write_text(out_dir / f"{name}.md", results_markdown(results, title=title or f"# {name}"))
    return {"json": json_path, "markdown": md_path}
