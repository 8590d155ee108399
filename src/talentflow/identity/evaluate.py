"""A labelled evaluation built from the data itself.

Hide the identifiers of whole venue-years that carry OpenReview ids, link again, and compare
with the truth the hidden identifiers give. Scored are the hidden authorships that carried an
OpenReview profile id (``openreview:~``; hashed e-mails are not profiles). The truth person
of each is its identifier cluster in the *unmasked* corpus.

- **recall_known**: of those whose person also has authorships (with its ids) outside the
  hidden venue-years, the share attached to that person;
- **false_attach_new**: of those whose person has no authorship outside, the share attached
  to any person with authorships outside the hidden venue-years, split by what that person
  carries outside: another OpenReview profile (certainly a wrong link, unless the human has
  two profiles), only other ids (ACL, DBLP, e-mail: possibly the same human under an id the
  truth does not connect), no ids at all (unidentified paper-list records: not checkable,
  mostly the same human, e.g. the same name at the same institution in an IJCAI paper).

With ``identified_only`` the evaluation runs on the authorships that carry an id (any
namespace) and nothing else: every record then has a truth, so a new person can only be
attached to someone whose ids say who they are. Links to people known only by unidentified
records (which the open corpus cannot check) cannot happen there; what remains uncheckable is
the fragmented truth (a human's second profile, or an ACL id the profile never meets).

Exact-name matching is scored the same way as a baseline: a hidden authorship joins the
identifier cluster (outside the hidden venue-years) with the same raw name and the most
authorships; it can only attach to people with ids.

A **time split** (``future``, ``--time-split``) links the hidden venue-years of one year as
a later year would be linked: beside them only earlier years (other venues of that year and
later years are left out), and the model trained on the earlier years alone, so the hidden
records inform no parameter. Held out: :data:`TIME_SPLIT_HELD_OUT`; for development:
:data:`TIME_SPLIT_DEVELOPMENT`. Over-splitting (``--oversplit``) is measured by
:mod:`talentflow.identity.oversplit`.

Run ``uv run talentflow evaluate identity --db STORE``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from talentflow.identity import evidence, identifiers, oversplit, review
from talentflow.identity.link import link
from talentflow.identity.truth import mask, write_truth

#: Venue-years hidden by default: OpenReview venue-years with many returning authors.
DEFAULT_HIDE = ("iclr2022", "nips2023", "corl2024")
#: The time split's held-out venue-years: the newest OpenReview year of NeurIPS and of ICML,
#: chosen before any measurement and never tuned on (``--time-split``).
TIME_SPLIT_HELD_OUT = ("nips2024", "icml2024")
#: The time split for development: the newest OpenReview year of ICLR.
TIME_SPLIT_DEVELOPMENT = ("iclr2023",)


@dataclass
class Scores:
    """One method's two figures and the counts behind them."""

    method: str
    recall_known: float
    n_known: int
    false_attach_new: float
    n_new: int
    #: Of new people, the share attached to a person holding another OpenReview profile
    #: (the part of ``false_attach_new`` that is certainly wrong; the rest goes to people
    #: known only by other ids or by none, which may be the same human under another id).
    false_attach_new_profile: float = float("nan")
    #: Of new people, the share attached to a person carrying any id outside (the
    #: exact-name baseline can only attach to such people: its figures compare to this).
    false_attach_new_ids: float = float("nan")


def _venue_year(t: ibis.Table) -> ibis.Value:
    return t.venue.cast("string") + t.year.cast("string")


def prepare(
    con: Any,
    authorships: ibis.Table,
    *,
    hide: tuple[str, ...] = DEFAULT_HIDE,
    truth_from: ibis.Table | None = None,
) -> ibis.Table:
    """Write the truth (``_eval_truth``) and return the authorships with ``hide`` ids removed.

    The truth is the identifier clusters of the *unmasked* corpus (after the same trust
    guards the stage applies), of ``truth_from`` when given (a time split links part of the
    corpus but reads the truth from all of it); the masked copy is ``_eval_masked`` on
    ``con``.
    """
    write_truth(con, authorships if truth_from is None else truth_from)
    return mask(con, authorships, _venue_year(authorships).isin(list(hide)))


def time_split(
    authorships: ibis.Table, hide: tuple[str, ...]
) -> tuple[ibis.Table, ibis.Table, int]:
    """``(earlier, corpus, year)`` for linking the venue-years ``hide`` of one ``year`` as
    the future: ``earlier`` holds every authorship of an earlier year (the model trains on
    it alone), ``corpus`` those and the ``hide`` venue-years (what is linked). Authorships of
    that year at other venues and of later years are in neither.
    """
    years = sorted({v[-4:] for v in hide})
    if not hide or len(years) != 1 or not years[0].isdigit():
        raise ValueError(
            f"a time split hides venue-years of one year (e.g. nips2024,icml2024), got {hide}"
        )
    year = int(years[0])
    earlier = authorships.filter(authorships.year < year)
    corpus = authorships.filter(
        (authorships.year < year) | _venue_year(authorships).isin(list(hide))
    )
    return earlier, corpus, year


def hidden_rows(
    con: Any,
    authorships: ibis.Table,
    assignments: ibis.Table,
    *,
    hide: tuple[str, ...],
    unscored: tuple[str, ...] = (),
) -> ibis.Table:
    """One row per hidden authorship that has a true person, with what each method did.

    Columns: ``known`` (the true person has authorships outside the hidden venue-years),
    ``ours_ok``/``ours_wrong_new`` and ``base_ok``/``base_wrong_new`` (the two figures per
    method), ``attached_to`` (for a new person linked to an existing one: ``openreview``
    when that person has an OpenReview profile outside, ``other ids`` when only other ids,
    ``no ids`` when only unidentified authorships), ``person_kind`` (the same for every row:
    what the assigned person carries outside, NULL when it has no authorship outside) and the
    names and keys behind them.

    ``unscored`` venue-years had their ids hidden too but are not scored: their records
    stand for unidentified ones whose truth is known (a person seen outside only there is
    "no ids", and a link to it is checkable).
    """
    truth = con.table("_eval_truth")
    hidden_flag = _venue_year(authorships).isin(list(hide))
    masked_flag = _venue_year(authorships).isin(list(unscored)) if unscored else ibis.literal(False)
    a = authorships.select(
        "authorship_id",
        "author_name",
        venue_year=_venue_year(authorships),
        spid=ibis.ifelse(
            masked_flag, ibis.null("string"), authorships.source_person_id.cast("string")
        ),
        hidden=hidden_flag,
        visible=~masked_flag,
    )
    lab = a.left_join(truth, "authorship_id").drop("authorship_id_right")
    lab = lab.join(
        assignments.select(
            "authorship_id", "person_key", "rule", "match_probability", "cluster_evidence"
        ),
        "authorship_id",
    )
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
    # Existing people (with authorships outside) and which kind of ids they carry there.
    existing = outside.group_by("person_key").aggregate(
        existing_or=(outside.spid.startswith("openreview:~").fill_null(False)).max(),
        existing_ids=(outside.cluster_key.notnull() & outside.visible).max(),
    )
    existing = existing.select(
        existing_key=existing.person_key,
        existing_kind=ibis.cases(
            (existing.existing_or, "openreview"),
            (existing.existing_ids, "other ids"),
            else_="no ids",
        ),
    )
    # The same for the baseline, whose candidates are outside identifier clusters (as far
    # as their ids are visible).
    seen = outside.filter(outside.cluster_key.notnull() & outside.visible)
    base_kind = seen.group_by("cluster_key").aggregate(
        base_or=(seen.spid.startswith("openreview:~").fill_null(False)).max()
    )
    base_kind = base_kind.select(
        name_key=base_kind.cluster_key,
        base_kind=ibis.ifelse(base_kind.base_or, "openreview", "other ids"),
    )

    hid = lab.filter(lab.hidden & lab.cluster_key.notnull())
    hid = hid.left_join(expected, "cluster_key").drop("cluster_key_right")
    hid = hid.left_join(existing, hid.person_key == existing.existing_key)
    # Exact-name baseline: the outside identifier cluster with this raw name and most rows.
    by_name = seen.group_by(["author_name", "cluster_key"]).aggregate(n=ibis._.count())
    wn = ibis.window(group_by="author_name", order_by=[ibis.desc("n"), "cluster_key"])
    by_name = by_name.mutate(rk=ibis.row_number().over(wn)).filter(ibis._.rk == 0)
    by_name = by_name.select(author_name=by_name.author_name, name_key=by_name.cluster_key)
    hid = hid.left_join(by_name, "author_name").drop("author_name_right")
    hid = hid.left_join(base_kind, "name_key").drop("name_key_right")
    known = hid.expected_key.notnull()
    wrong_new = ~known & hid.existing_key.notnull()
    base_wrong_new = ~known & hid.name_key.notnull()
    return hid.select(
        "authorship_id",
        "author_name",
        "venue_year",
        "cluster_key",
        "person_key",
        "expected_key",
        "rule",
        "match_probability",
        "cluster_evidence",
        profile=hid.spid.startswith("openreview:~").fill_null(False),
        known=known,
        ours_ok=known & (hid.person_key == hid.expected_key),
        ours_wrong_new=wrong_new,
        attached_to=ibis.ifelse(wrong_new, hid.existing_kind, ibis.null("string")),
        person_kind=hid.existing_kind,
        base_ok=known & (hid.name_key == hid.cluster_key),
        base_wrong_new=base_wrong_new,
        base_attached_to=ibis.ifelse(base_wrong_new, hid.base_kind, ibis.null("string")),
    )


def scores_of(df: Any, *, profiles_only: bool = True) -> tuple[list[Scores], dict[str, Any]]:
    """Both methods' figures from :func:`hidden_rows` (as pandas), and a breakdown.

    With ``profiles_only`` (the default) only hidden authorships that carried an OpenReview
    profile id (``openreview:~``) are scored: hidden hashed e-mails are not person profiles
    (their owner's profile, if any, is another id, so the truth would call a correct link
    wrong).
    """
    if profiles_only:
        df = df[df.profile]
    known = df.known.astype(bool)
    n_known = int(known.sum())
    n_new = int((~known).sum())

    def share(x: Any, n: int) -> float:
        return float(x.sum()) / n if n else float("nan")

    scores = []
    for method, ok, wrong, kind in (
        ("splink linkage", df.ours_ok, df.ours_wrong_new, df.attached_to),
        ("exact name", df.base_ok, df.base_wrong_new, df.base_attached_to),
    ):
        scores.append(
            Scores(
                method,
                share(ok, n_known),
                n_known,
                share(wrong, n_new),
                n_new,
                share(kind == "openreview", n_new),
                share(kind.isin(["openreview", "other ids"]), n_new),
            )
        )
    kinds = df.attached_to.value_counts().to_dict()
    breakdown = {
        f"new attached to a person with {k}": round(v / n_new, 4) if n_new else 0.0
        for k, v in sorted(kinds.items())
    }
    # Links of new people to another OpenReview profile on the same name *and* shared
    # co-authors are mostly a second profile of the same human (~Sonali_Parbhoo2 for
    # Sonali Parbhoo); those on the name alone are the unique-name rule's.
    if "cluster_evidence" in df.columns and n_new:
        ev = df.cluster_evidence.fillna("")
        to_profile = df.attached_to == "openreview"
        co = ev.str.extract(r"coauthors:(-?[0-9.]+)", expand=False).astype(float) > 0
        by_name = ev.str.startswith(evidence.UNIQUE_NAME)
        breakdown["new to another profile: shared co-authors"] = round(
            float((to_profile & co).sum()) / n_new, 4
        )
        breakdown["new to another profile: unique name alone"] = round(
            float((to_profile & by_name).sum()) / n_new, 4
        )
        # The same for people known by other ids only: mostly an ACL id of the same human
        # (same name, shared co-authors and institution), which the truth cannot connect.
        breakdown["new to other ids: shared co-authors"] = round(
            float(((df.attached_to == "other ids") & co).sum()) / n_new, 4
        )
    # Where the known people that were missed went: left alone, put with someone who has
    # ids outside (often another id fragment or profile of the same human, which the truth
    # does not connect), with someone known only by unidentified authorships, or grouped
    # only with other hidden authorships.
    missed = df[known & ~df.ours_ok.astype(bool)]
    if "person_kind" in missed.columns:
        kind = missed.person_kind.fillna("hidden only").replace(
            {"openreview": "a person with ids", "other ids": "a person with ids"}
        )
        where = kind.where(missed.rule != "singleton", "left alone")
        for k, v in sorted(where.value_counts().to_dict().items()):
            breakdown[f"known missed: {k}"] = round(v / n_known, 4) if n_known else 0.0
    return scores, breakdown


def evaluate(
    con: Any,
    authorships: ibis.Table,
    papers: ibis.Table | None,
    *,
    hide: tuple[str, ...] = DEFAULT_HIDE,
    params: dict[str, Any] | None = None,
    dump: str | Path | None = None,
    identified_only: bool = False,
    unscored: tuple[str, ...] = (),
    review_sheet: str | Path | None = None,
    review_per_stratum: int = 25,
    review_seed: int = 20261130,
    future: bool = False,
    labels: Any = None,
    dump_links: str | Path | None = None,
) -> tuple[list[Scores], dict[str, Any]]:
    """Hide ids of ``hide`` venue-years, relink, and score linkage and the exact-name baseline.

    ``dump`` writes the per-authorship rows (:func:`hidden_rows`) to a Parquet file.
    ``identified_only`` first drops every authorship without an id (see the module's text);
    ``unscored`` venue-years lose their ids too but are not scored (see :func:`hidden_rows`).
    ``review_sheet`` writes a sample of the new people the truth calls wrongly attached, with
    the people they were attached to, for a clerical review (:mod:`talentflow.identity.review`),
    and a CSV beside it (same name, ``.csv``) to fill in the verdicts.

    ``future`` makes it a time split (:func:`time_split`): the ``hide`` venue-years (of one
    year) are linked as a later year would be, with only earlier years beside them, and with
    the model (u, m, prior) trained on those earlier years alone; the hidden records inform no
    parameter. The truth is still read from the whole unmasked corpus.

    ``labels`` (a clerical review's labels, pandas: ``attached_to``, ``verdict``) adds the
    fragmentation-aware reading of new people wrongly attached: this run's shares per
    stratum times the review's rates (:func:`review.transferred`).

    ``dump_links`` (a directory) receives what the decisions saw, for measuring evidence
    on the development splits: ``assignments.parquet`` (every linked authorship's person
    key, rule, probability and evidence) and ``pairs.parquet`` (the first round's scored
    pairs of a free entity and a cluster).
    """
    if identified_only:
        authorships = identified(authorships)
    trained = None
    split: dict[str, Any] = {}
    truth_from = None
    if future:
        earlier, corpus, year = time_split(authorships, hide)
        t0 = time.perf_counter()
        training = link(con, earlier, papers, params=params)
        trained = training.model
        training.drop(con)
        if trained is None:
            raise ValueError(f"a time split found nothing to train on before {year}")
        split = {
            "time split: linked with years before": year,
            "time split: training seconds": round(time.perf_counter() - t0, 1),
            "time split: training authorships": int(earlier.count().execute()),
        }
        truth_from, authorships = authorships, corpus
    masked = prepare(con, authorships, hide=(*hide, *unscored), truth_from=truth_from)
    t0 = time.perf_counter()
    result = link(con, masked, papers, params=params, trained_model=trained)
    seconds = time.perf_counter() - t0
    rows = hidden_rows(con, authorships, result.assignments, hide=hide, unscored=unscored)
    if dump is not None:
        rows.to_parquet(str(dump))
    if dump_links is not None:
        write_links(con, result, dump_links)
    df = rows.to_pandas()
    if review_sheet is not None:
        picked = review.sample(df, review_per_stratum, review_seed)
        text = review.sheet(con, authorships, papers, result.assignments, picked, hide=hide)
        review.write_sheet(review_sheet, text, picked)
    scores, breakdown = scores_of(df)
    every, _ = scores_of(df, profiles_only=False)
    if labels is not None:
        scored = df[df.profile]
        n_new = int((~scored.known.astype(bool)).sum())
        counts = scored.attached_to.value_counts().to_dict()
        shares = {k: v / n_new for k, v in counts.items()} if n_new else {}
        point, high = review.transferred(shares, labels)
        breakdown["new wrongly attached, fragmentation-aware (review rates; upper 95%)"] = [
            round(point, 4),
            round(high, 4),
        ]
    info = {
        "hidden": list(hide),
        "corpus": "identified authorships only" if identified_only else "every authorship",
        "unscored": list(unscored),
        "link_seconds": round(seconds, 1),
        **split,
        "all hidden ids (e-mails too), known/new": {
            s.method: [round(s.recall_known, 3), round(s.false_attach_new, 3)] for s in every
        },
        **breakdown,
        **result.stats,
        "model": result.model,
    }
    result.drop(con)
    for name in ("_eval_names", "_eval_feats", "_eval_truth", "_eval_masked", "_eval_lab"):
        con.drop_table(name, force=True)
    return scores, info


def write_links(con: Any, result: Any, directory: str | Path) -> None:
    """Write a linkage's assignments and its first round's free-to-cluster pairs (see
    :func:`evaluate`'s ``dump_links``) as Parquet files under ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result.assignments.to_parquet(str(out / "assignments.parquet"))
    scores = [t for t in result.temp_tables if t.endswith("entities_scores")]
    if scores:
        pairs = con.table(scores[0])
        pairs = pairs.filter(pairs.is_cluster_l != pairs.is_cluster_r)
        pairs.to_parquet(str(out / "pairs.parquet"))


def identified(authorships: ibis.Table) -> ibis.Table:
    """The authorships that carry at least one id (see :data:`identifiers.ID_COLUMNS`)."""
    id_cols = [c for c in identifiers.ID_COLUMNS if c in authorships.columns]
    if not id_cols:
        return authorships.limit(0)
    carries = ibis.or_(*(authorships[c].notnull() for c in id_cols))
    return authorships.filter(carries)


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
        "--hide",
        help="venue-years to hide, comma-separated (default: "
        f"{','.join(DEFAULT_HIDE)}; with --time-split {','.join(TIME_SPLIT_HELD_OUT)})",
    )
    parser.add_argument(
        "--time-split",
        action="store_true",
        help="link the hidden venue-years (of one year) with earlier years only, the model "
        "trained on earlier years only",
    )
    parser.add_argument(
        "--oversplit",
        type=float,
        metavar="FRACTION",
        help="instead: hide every id of this fraction of OpenReview humans in every year and "
        "count the person records each ends up in (e.g. 0.1)",
    )
    parser.add_argument(
        "--oversplit-seed",
        type=int,
        default=oversplit.HELD_OUT_SEED,
        help=f"the over-split sample's seed ({oversplit.DEVELOPMENT_SEED}: development, "
        f"{oversplit.HELD_OUT_SEED}: held out)",
    )
    parser.add_argument(
        "--review-labels",
        help="a clerical review's labels (CSV with attached_to, verdict): adds the "
        "fragmentation-aware reading from its per-stratum rates",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a linkage parameter (repeatable), e.g. --set margin=4",
    )
    parser.add_argument("--dump", help="write the per-authorship rows to this Parquet file")
    parser.add_argument(
        "--dump-links",
        help="write every assignment and the first round's scored pairs to this directory",
    )
    parser.add_argument(
        "--unscored",
        default="",
        help="venue-years whose ids are hidden too, unscored: they stand for unidentified records",
    )
    parser.add_argument(
        "--review-sheet",
        help="write a sample of the links the truth calls wrong, to label by hand (and a CSV)",
    )
    parser.add_argument("--review-per-stratum", type=int, default=25)
    parser.add_argument("--review-seed", type=int, default=20261130)
    parser.add_argument(
        "--identified-only",
        action="store_true",
        help="evaluate on the authorships that carry an id only (every record has a truth)",
    )
    args = parser.parse_args(argv)
    params = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    labels = pd.read_csv(args.review_labels) if args.review_labels else None
    con, a, papers = load_store(args.db)
    console = Console()
    if args.oversplit is not None:
        found = oversplit.evaluate(
            con,
            a,
            papers,
            fraction=args.oversplit,
            seed=args.oversplit_seed,
            params=params,
            dump=args.dump,
            labels=labels,
            review_sheet=args.review_sheet,
            review_per_stratum=args.review_per_stratum,
            review_seed=args.review_seed,
        )
        console.print(found)
        return
    hide = args.hide or ",".join(TIME_SPLIT_HELD_OUT if args.time_split else DEFAULT_HIDE)
    scores, info = evaluate(
        con,
        a,
        papers,
        hide=tuple(hide.split(",")),
        future=args.time_split,
        labels=labels,
        params=params,
        dump=args.dump,
        dump_links=args.dump_links,
        identified_only=args.identified_only,
        unscored=tuple(v for v in args.unscored.split(",") if v),
        review_sheet=args.review_sheet,
        review_per_stratum=args.review_per_stratum,
        review_seed=args.review_seed,
    )
    table = Table(
        title=("time split, " if args.time_split else "")
        + f"identity evaluation (hidden: {', '.join(info['hidden'])}; {info['corpus']}"
        + (f"; unscored: {', '.join(info['unscored'])})" if info["unscored"] else ")")
    )
    for col in (
        "method",
        "known: attached to their person",
        "n",
        "new: attached to an existing person",
        "to a person with ids",
        "to another OpenReview profile",
        "n",
    ):
        table.add_column(col)
    for s in scores:
        table.add_row(
            s.method,
            f"{s.recall_known:.3f}",
            str(s.n_known),
            f"{s.false_attach_new:.3f}",
            f"{s.false_attach_new_ids:.3f}",
            f"{s.false_attach_new_profile:.3f}",
            str(s.n_new),
        )
    console.print(table)
    skip = ("hidden", "corpus", "unscored", "model")
    console.print({k: v for k, v in info.items() if k not in skip})


if __name__ == "__main__":
    main()
