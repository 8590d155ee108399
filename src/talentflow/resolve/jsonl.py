"""Resolve a JSON-lines stream: ``{"id", "affiliation", "domain"}`` in, resolution added out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from talentflow.resolve.resolver import Resolver

#: Longest input line accepted (bytes of text); longer lines are reported, not resolved.
MAX_LINE = 1_000_000


@dataclass
class LineError:
    """A line that could not be resolved (1-based line number)."""

    line: int
    message: str


def resolve_lines(
    lines: Iterable[str], out: IO[str], resolver: Resolver
) -> tuple[int, list[LineError]]:
    """Resolve each JSON line of ``lines`` into ``out``; bad lines are skipped and reported.

    Returns the number of lines written and the errors (line number and reason). Blank lines
    are ignored.
    """
    written = 0
    errors: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            errors.append(LineError(number, f"line longer than {MAX_LINE} characters"))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(LineError(number, f"not JSON: {exc.msg} (column {exc.colno})"))
            continue
        except RecursionError:
            errors.append(LineError(number, "JSON nested too deep to read"))
            continue
        if not isinstance(record, dict):
            errors.append(LineError(number, "not a JSON object"))
            continue
        aff = record.get("affiliation")
        dom = record.get("domain")
        if aff is not None and not isinstance(aff, str):
            errors.append(LineError(number, "'affiliation' must be a string or null"))
            continue
        if dom is not None and not isinstance(dom, str):
            errors.append(LineError(number, "'domain' must be a string or null"))
            continue
        res = resolver.resolve(aff, dom).as_dict()
        res.pop("method", None)
        record.update(res)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written, errors
