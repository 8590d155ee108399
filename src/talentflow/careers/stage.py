"""The careers stage: ``authorships`` -> ``person_years``, ``tenures``, ``events``,
``person_profile`` (see docs/tables.md and docs/careers.md)."""

from __future__ import annotations

from typing import Any

import ibis

from talentflow.careers.build import TEMP_PREFIX, build_careers
from talentflow.careers.histories import DEFAULT_EVIDENCE, check_evidence
from talentflow.careers.params import CareerParams
from talentflow.context import StageContext

#: Tables this stage writes, in order.
OUTPUTS = ("person_years", "tenures", "events", "person_profile")

#: Columns the stage reads from ``authorships`` (added by resolve and identity).
INPUT_COLUMNS = ("person_id", "institution", "country", "sector", "career_position", "hq_fallback")


def careers_input(authorships: Any) -> tuple[Any, list[str]]:
    """``authorships`` with every column the stage reads; missing ones become NULL.

    A store built without the identity stage has no ``person_id``: every row is then unlinked
    and the careers tables come out empty (with their full schema) rather than failing.
    """
    missing = [c for c in INPUT_COLUMNS if c not in authorships.columns]
    if missing:
        authorships = authorships.mutate(
            **{c: ibis.null("boolean" if c == "hq_fallback" else "string") for c in missing}
        )
    return authorships, missing


def run(ctx: StageContext) -> None:
    """Build the careers tables on ``ctx.con`` with parameters ``ctx.params`` (b, o, d, and
    ``evidence``: ``papers`` or ``papers+histories``)."""
    given = dict(ctx.params)
    evidence = check_evidence(str(given.pop("evidence", DEFAULT_EVIDENCE)))
    params = CareerParams.from_mapping(given)
    ctx.record_params("careers", params.as_dict() | {"evidence": evidence})
    authorships, missing = careers_input(ctx.con.table("authorships"))
    if missing:
        ctx.progress(f"careers: authorships lacks {', '.join(missing)} (treated as unknown)")
    ctx.progress("careers: person-years, tenures and events")
    written: set[str] = set()

    def write(name: str, expr: Any) -> Any:
        written.add(name)
        return ctx.con.create_table(name, expr, overwrite=True)

    # nothing the stage computes depends on row order (every choice is ordered by values)
    with ctx.engine.unordered_inserts():
        tables = build_careers(ctx.con, authorships, params, evidence=evidence, write=write)
        for name in OUTPUTS:
            if name not in written:
                write(name, tables[name])
    ctx.engine.drop_tables(TEMP_PREFIX)
