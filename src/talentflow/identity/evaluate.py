"""A labelled evaluation built from the data itself.

Hide the identifiers of whole venue-years that carry OpenReview ids, link again, and compare
with the truth the hidden identifiers give:

- **recall_known**: of hidden authorships whose person (true identifier cluster) also has
  authorships elsewhere in the corpus, the share attached to that person;
- **false_attach_new**: of hidden authorships of people new to the corpus, the share
  attached to any person that has authorships outside the hidden venue-years.

Exact-name matching is scored the same way as a baseline: a hidden authorship joins the
identifier cluster (outside the hidden venue-years) with the same raw name and the most
authorships.

Run ``uv run python -m talentflow.identity.evaluate --db STORE``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis

from talentflow.identity import features, identifiers
from talentflow.identity.link import link

#: Venue-years hidden by default: OpenReview venue-years with many returning authors.
DEFAULT_HIDE = ("iclr2022", "nips2023", "corl2024")


@dataclass
class Scores:
    """One method's two figures and the counts behind them."""

    method: str
    recall_known: float
    n_known: int
    false_attach_new: float
    n_new: int


def _venue_year(t: ibis.Table) -> ibis.Value:
    return t.venue.cast("string") + t.year.cast("string")


def evaluate(
    con: Any,
    authorships: ibis.Table,
    papers: ibis.Table | None,
    *,
    hide: tuple[str, ...] = DEFAULT_HIDE,
    params: dict[str, Any] | None = None,
) -> tuple[list[Scores], dict[str, Any]]:
    """Hide ids of ``hide`` venue-years, relink, and score linkage and the exact-name baseline."""
    names = features.name_table(con, authorships)
    con.create_table("_eval_names", names, overwrite=True)
    feats = features.authorship_features(authorships, con.table("_eval_names"), None)
    con.create_table("_eval_feats", feats, overwrite=True)
    truth = identifiers.identifier_clusters(con, authorships, con.table("_eval_feats"))
    con.create_table("_eval_truth", truth, overwrite=True)
    truth = con.table("_eval_truth")

    hidden_flag = _venue_year(authorships).isin(list(hide))
    id_cols = [c for c in identifiers.ID_COLUMNS if c in authorships.columns]
    masked = authorships.mutate(
        **{
            c: ibis.ifelse(hidden_flag, ibis.null(authorships[c].type()), authorships[c])
            for c in id_cols
        }
    )
    con.create_table("_eval_masked", masked, overwrite=True)
    t0 = time.perf_counter()
    result = link(con, con.table("_eval_masked"), papers, params=params)
    seconds = time.perf_counter() - t0
    asg = result.assignments

    a = authorships.select("authorship_id", "author_name", hidden=hidden_flag)
    lab = a.left_join(truth, "authorship_id").drop("authorship_id_right")
    lab = lab.join(asg.select("authorship_id", "person_key"), "authorship_id")
    con.create_table("_eval_lab", lab, overwrite=True)
    lab = con.table("_eval_lab")
    outside = lab.filter(~lab.hidden)
    # The person a true cluster maps to outside the hidden venue-years (its most common key).
    cnt = (
        outside.filter(outside.cluster_key.notnull())
        .group_by(["cluster_key", "person_key"])
        .aggregate(n=ibis._.count())
    )
    w = ibis.window(group_by="cluster_key", order_by=[ibis.desc("n"), "person_key"])
    expected = cnt.mutate(rk=ibis.row_number().over(w)).filter(ibis._.rk == 0)
    expected = expected.select("cluster_key", expected_key=expected.person_key)
    existing = outside.select(existing_key=outside.person_key).distinct()

    hid = lab.filter(lab.hidden & lab.cluster_key.notnull())
    hid = hid.left_join(expected, "cluster_key").drop("cluster_key_right")
    hid = hid.left_join(existing, hid.person_key == existing.existing_key)
    # Exact-name baseline: the outside identifier cluster with this raw name and most rows.
    by_name = (
        outside.filter(outside.cluster_key.notnull())
        .group_by(["author_name", "cluster_key"])
        .aggregate(n=ibis._.count())
    )
    wn = ibis.window(group_by="author_name", order_by=[ibis.desc("n"), "cluster_key"])
    by_name = by_name.mutate(rk=ibis.row_number().over(wn)).filter(ibis._.rk == 0)
    by_name = by_name.select(author_name=by_name.author_name, name_key=by_name.cluster_key)
    hid = hid.left_join(by_name, "author_name").drop("author_name_right")
    known = hid.expected_key.notnull()
    df = hid.select(
        known=known,
        ours_ok=known & (hid.person_key == hid.expected_key),
        ours_wrong_new=~known & hid.existing_key.notnull(),
        base_ok=known & (hid.name_key == hid.cluster_key),
        base_wrong_new=~known & hid.name_key.notnull(),
    ).to_pandas()
    n_known = int(df.known.sum())
    n_new = int((~df.known).sum())

    def share(x: Any, n: int) -> float:
        return float(x.sum()) / n if n else float("nan")

    scores = [
        Scores(
            "splink linkage",
            share(df.ours_ok, n_known),
            n_known,
            share(df.ours_wrong_new, n_new),
            n_new,
        ),
        Scores(
            "exact name",
            share(df.base_ok, n_known),
            n_known,
            share(df.base_wrong_new, n_new),
            n_new,
        ),
    ]
    info = {"hidden": list(hide), "link_seconds": round(seconds, 1), **result.stats}
    result.drop(con)
    for name in ("_eval_names", "_eval_feats", "_eval_truth", "_eval_masked", "_eval_lab"):
        con.drop_table(name, force=True)
    return scores, info


def load_store(db: str | Path) -> tuple[Any, ibis.Table, ibis.Table | None]:
    """An in-memory copy of a store's ``authorships`` and ``papers`` (the store stays untouched)."""
    con = ibis.duckdb.connect()
    con.raw_sql(f"ATTACH '{Path(db)}' AS store (READ_ONLY)")
    con.raw_sql("CREATE TABLE authorships AS SELECT * FROM store.authorships")
    tables = {
        r[0]
        for r in con.raw_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'store'"
        ).fetchall()
    }
    papers = None
    if "papers" in tables:
        con.raw_sql("CREATE TABLE papers AS SELECT paper_id, title FROM store.papers")
        papers = con.table("papers")
    con.raw_sql("DETACH store")
    a = con.table("authorships")
    # A previous identity run's output is not an input.
    if "person_id" in a.columns:
        a = a.drop("person_id")
    return con, a, papers


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: print both methods' scores on a store."""
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a talentflow store (read only)")
    parser.add_argument(
        "--hide", default=",".join(DEFAULT_HIDE), help="venue-years to hide, comma-separated"
    )
    args = parser.parse_args(argv)
    con, a, papers = load_store(args.db)
    scores, info = evaluate(con, a, papers, hide=tuple(args.hide.split(",")))
    table = Table(title=f"identity evaluation (hidden: {', '.join(info['hidden'])})")
    for col in ("method", "known: attached to their person", "n", "new: wrongly attached", "n"):
        table.add_column(col)
    for s in scores:
        table.add_row(
            s.method,
            f"{s.recall_known:.3f}",
            str(s.n_known),
            f"{s.false_attach_new:.3f}",
            str(s.n_new),
        )
    console = Console()
    console.print(table)
    console.print({k: v for k, v in info.items() if k != "hidden"})


if __name__ == "__main__":
    main()
