"""The identity stage: ``authorships`` -> ``persons``, ``person_links``, ``authorships.person_id``.

Explicit identifiers first (transitive union over shared ids), then splink for authorships
without one (see :mod:`talentflow.identity.link`). Person ids are ``P`` + the first 16 hex
digits of the MD5 of the person's key: the smallest identifier of its identifier cluster, or,
for a person known only through linkage, its smallest authorship id. The same input gives the
same ids, and an identified person keeps its id across builds as long as its smallest id does.
"""

from __future__ import annotations

import time
from typing import Any

import ibis

from talentflow.identity import decide, model
from talentflow.identity.link import link


def person_id(key: ibis.Value) -> ibis.Value:
    """``P`` + 16 hex digits of the MD5 of a person key (stable across engines and runs)."""
    return ibis.literal("P") + key.hexdigest("md5").substr(0, 16)


def persons_table(authorships: ibis.Table, ids: ibis.Table) -> ibis.Table:
    """``persons`` from linked authorships and the trusted ``(authorship_id, pid)`` ids."""
    a = authorships
    counts = a.group_by(["person_id", "author_name"]).aggregate(n=ibis._.count())
    w = ibis.window(group_by="person_id", order_by=[ibis.desc("n"), "author_name"])
    display = counts.mutate(rk=ibis.row_number().over(w)).filter(ibis._.rk == 0)
    display = display.select("person_id", display_name=display.author_name)
    known = ids.join(a.select("authorship_id", "person_id"), "authorship_id")
    # Distinct pairs, then a plain collect: the same sorted set, cheaper than a distinct
    # aggregate per group.
    known = known.select("person_id", "pid").distinct()
    known = known.group_by("person_id").aggregate(known_ids=known.pid.collect().sort())
    agg = a.group_by("person_id").aggregate(
        first_year=a.year.min().cast("int64"),
        last_year=a.year.max().cast("int64"),
        n_papers=a.paper_id.nunique().cast("int64"),
        n_authorships=a.count().cast("int64"),
    )
    out = agg.join(display, "person_id").left_join(known, "person_id").drop("person_id_right")
    return out.select(
        "person_id",
        "display_name",
        known_ids=out.known_ids.fill_null(ibis.literal([], type="array<string>")),
        first_year=out.first_year,
        last_year=out.last_year,
        n_papers=out.n_papers,
        n_authorships=out.n_authorships,
    )


def run(ctx: Any) -> None:
    """Link ``authorships`` into persons and write ``persons`` and ``person_links``.

    Parameters (``ctx.params``) override ``model.DEFAULTS`` and ``decide.DEFAULTS``; all
    thresholds, model parameters and the trained splink model are recorded in
    ``build_params`` (stage ``identity``).
    """
    # nothing the stage computes depends on row order (every choice is ordered by values)
    with ctx.engine.unordered_inserts():
        _run(ctx)


def _run(ctx: Any) -> None:
    con = ctx.con
    tables = set(con.list_tables())
    authorships = con.table("authorships")
    if "person_id" in authorships.columns:  # rebuilt from scratch, never stacked
        authorships = authorships.drop("person_id")
    papers = con.table("papers") if "papers" in tables else None
    ctx.progress("identity: linking authorships")
    result = link(con, authorships, papers, params=ctx.params)
    t0, c0 = time.perf_counter(), time.process_time()
    asg = result.assignments
    links = asg.select(
        "authorship_id",
        person_id=person_id(asg.person_key),
        rule=asg.rule,
        match_probability=asg.match_probability.cast("float64"),
        cluster_evidence=asg.cluster_evidence.cast("string"),
    )
    con.create_table("person_links", links, overwrite=True)
    # Only the new column is written (an UPDATE on DuckDB), not every column of authorships.
    ctx.engine.set_column("authorships", "person_id", "person_links", "authorship_id")
    ids = con.table("_identity_ids")
    con.create_table("persons", persons_table(con.table("authorships"), ids), overwrite=True)
    result.drop(con)
    # the writes after linkage: person_links, authorships.person_id, persons
    result.stats.setdefault("seconds", {})["write"] = round(time.perf_counter() - t0, 2)
    result.stats.setdefault("cpu_seconds", {})["write"] = round(time.process_time() - c0, 2)
    recorded = {
        **{k: result.params[k] for k in (*decide.DEFAULTS, *model.DEFAULTS, "max_coauthors")},
        "blocking_rules": list(model.BLOCKING_RULES),
        "training_rules": list(model.TRAINING_RULES),
        "stats": result.stats,
        "model": result.model,
    }
    ctx.record_params("identity", recorded)
