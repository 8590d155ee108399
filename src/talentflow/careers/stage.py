"""The careers stage: ``authorships`` -> ``person_years``, ``tenures``, ``events``,
``person_profile`` (see docs/tables.md and docs/careers.md)."""

from __future__ import annotations

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams
from talentflow.pipeline import StageContext

#: Tables this stage writes, in order.
OUTPUTS = ("person_years", "tenures", "events", "person_profile")


def run(ctx: StageContext) -> None:
    """Build the careers tables on ``ctx.con`` with parameters ``ctx.params`` (b, o, d)."""
    params = CareerParams.from_mapping(ctx.params)
    ctx.record_params("careers", params.as_dict())
    ctx.progress("careers: person-years, tenures and events")
    tables = build_careers(ctx.con, ctx.con.table("authorships"), params)
    for name in OUTPUTS:
        ctx.con.create_table(name, tables[name], overwrite=True)
