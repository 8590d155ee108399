"""Clerical review of the links the evaluation calls wrong.

The evaluation's truth is the identifier clusters of the corpus (see
:mod:`talentflow.identity.evaluate`), and that truth is fragmented: one human may hold two
OpenReview profiles, an ACL Anthology id the profile never meets, or papers in lists without
ids. A "new" person attached to such a fragment is counted wrong although the link is right.
The share of new people *truly* wrongly attached is estimated here from a hand-labelled
sample, stratified by what the attached person carries outside the hidden venue-years
(another OpenReview profile, other ids only, no ids):

    estimate = sum over strata of (share of new people attached there)
               x (share of the stratum's reviewed links labelled not the same human)

with an upper bound that adds up each stratum's one-sided Clopper-Pearson bound at
``1 - (1 - confidence) / 3`` (Bonferroni: the sum exceeds the bound only if some stratum
exceeds its own, so the bound holds with at least ``confidence``). Links labelled ``unsure``
count as wrong.

Make a sheet to label (the evaluation's rows and the people behind them)::

    uv run talentflow evaluate identity --db STORE --dump rows.parquet \\
        --review-sheet sheet.txt

then fill a CSV with ``authorship_id`` and ``verdict`` (``same``, ``different``, ``unsure``)
and read the estimate::

    uv run talentflow evaluate review --rows rows.parquet --labels labels.csv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
from scipy.stats import beta

#: What the attached person carries outside the hidden venue-years (``attached_to``).
STRATA = ("openreview", "other ids", "no ids")
VERDICTS = ("same", "different", "unsure")


def wrong_new(rows: pd.DataFrame) -> pd.DataFrame:
    """The scored rows (profiles) of new people the truth says were wrongly attached."""
    rows = rows[rows.profile.astype(bool)]
    return rows[~rows.known.astype(bool) & rows.ours_wrong_new.astype(bool)]


def sample(
    rows: pd.DataFrame, per_stratum: int = 25, seed: int = 20261130, exclude: Any = ()
) -> pd.DataFrame:
    """Up to ``per_stratum`` wrongly attached new people per stratum, drawn with ``seed``
    (authorships in ``exclude`` are left out: a second sample of the same run)."""
    w = wrong_new(rows)
    return draw(w[~w.authorship_id.isin(set(exclude))], per_stratum, seed)


def draw(links: pd.DataFrame, per_stratum: int, seed: int) -> pd.DataFrame:
    """Up to ``per_stratum`` of ``links`` per stratum (``attached_to``), drawn with ``seed``,
    numbered ``review_id``."""
    # Sorted first: the engine returns rows in any order, and the draw must not depend on it.
    links = links.sort_values("authorship_id")
    strata = [links[links.attached_to == s] for s in STRATA]
    picked = [s.sample(min(per_stratum, len(s)), random_state=seed) for s in strata]
    out = pd.concat(picked, ignore_index=True)
    return out.assign(review_id=range(len(out)))


@dataclass
class Stratum:
    """One stratum's figures."""

    name: str
    share_of_new: float  # new people the truth calls wrongly attached here, of all new
    reviewed: int
    wrong: int  # labelled different or unsure
    rate: float  # wrong / reviewed
    upper: float  # one-sided Clopper-Pearson upper bound of rate (Bonferroni-adjusted)


def estimate(
    rows: pd.DataFrame,
    labels: pd.DataFrame,
    confidence: float = 0.95,
    *,
    drop_unmade: bool = False,
) -> tuple[float, float, list[Stratum]]:
    """The estimated share of new people truly wrongly attached, its upper bound at
    ``confidence``, and the strata behind them.

    ``rows`` are the evaluation's rows (:func:`evaluate.hidden_rows`), ``labels`` has
    ``authorship_id`` and ``verdict``; labels of authorships not among the wrongly attached
    new people of ``rows`` are an error (a sheet from another run), unless ``drop_unmade``:
    then they are left out. That is right only when the rows' run made a subset of the
    labelled run's links (a rule that only takes links back): the labels left are then
    still a uniform sample of each stratum.
    """
    _check(labels, ("authorship_id", "verdict"))
    scored = rows[rows.profile.astype(bool)]
    n_new = int((~scored.known.astype(bool)).sum())
    w = wrong_new(rows)
    stray = set(labels.authorship_id) - set(w.authorship_id)
    if stray and drop_unmade:
        labels = labels[~labels.authorship_id.isin(stray)]
    elif stray:
        raise ValueError(
            f"{len(stray)} labelled authorships are not wrongly attached new people of these "
            f"rows (e.g. {sorted(stray)[0]}): labels and rows come from different runs"
        )
    lab = labels[["authorship_id", "verdict"]].merge(
        w[["authorship_id", "attached_to"]], on="authorship_id"
    )
    rates = stratum_rates(lab, confidence)
    strata = []
    for s in STRATA:
        share = float((w.attached_to == s).sum()) / n_new if n_new else 0.0
        n, k, rate, upper = rates[s]
        strata.append(Stratum(s, share, n, k, rate, upper))
    point = sum(s.share_of_new * s.rate for s in strata)
    high = sum(s.share_of_new * s.upper for s in strata)
    return point, high, strata


def _check(labels: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Refuse labels without ``columns`` or with a verdict not in :data:`VERDICTS`."""
    missing = [c for c in columns if c not in labels.columns]
    if missing:
        raise ValueError(f"the labels have no column {', '.join(missing)}")
    bad = set(labels.verdict) - set(VERDICTS)
    if bad:
        raise ValueError(f"unknown verdicts {sorted(bad)}: use one of {VERDICTS}")


def stratum_rates(
    labels: pd.DataFrame, confidence: float = 0.95
) -> dict[str, tuple[int, int, float, float]]:
    """Per stratum (``attached_to``) of labelled links: reviewed, labelled not the same human
    (``different`` or ``unsure``), their rate and its one-sided Clopper-Pearson upper bound
    at ``1 - (1 - confidence) / 3`` (Bonferroni over the strata). A stratum nobody reviewed
    has rate and bound 1 (all counted wrong)."""
    _check(labels, ("attached_to", "verdict"))
    each = 1.0 - (1.0 - confidence) / len(STRATA)
    out = {}
    for s in STRATA:
        mine = labels[labels.attached_to == s]
        n = len(mine)
        k = int((mine.verdict != "same").sum())
        rate = k / n if n else 1.0
        upper = float(beta.ppf(each, k + 1, n - k)) if n and k < n else 1.0
        out[s] = (n, k, rate, upper)
    return out


def transferred(
    shares: dict[str, float], labels: pd.DataFrame, confidence: float = 0.95
) -> tuple[float, float]:
    """The share truly wrong, estimated by applying a clerical review's per-stratum rates
    (``labels``: its ``attached_to`` and ``verdict``, usually of *another* run) to this
    run's shares of links per stratum (``shares``: stratum -> share of the population):
    the point estimate and the upper bound (see :func:`stratum_rates`).

    It assumes the review's strata hold the same mix of right and wrong links here, which is
    an extrapolation: say so next to the figure.
    """
    rates = stratum_rates(labels, confidence)
    point = sum(shares.get(s, 0.0) * rates[s][2] for s in STRATA)
    high = sum(shares.get(s, 0.0) * rates[s][3] for s in STRATA)
    return point, high


def sheet(
    con: Any,
    authorships: ibis.Table,
    papers: ibis.Table | None,
    assignments: ibis.Table,
    picked: pd.DataFrame,
    *,
    hide: tuple[str, ...],
    shown: int = 5,
    own: dict[str, set[str]] | None = None,
) -> str:
    """A text sheet for reviewers: each picked hidden authorship and up to ``shown`` of the
    attached person's authorships outside the hidden venue-years, with ids, affiliation,
    career stage, title and co-authors.

    ``own`` (picked authorship id -> authorship ids) leaves those authorships out of what is
    shown as attached: on an over-split, the hidden human's own records, so that the sheet
    shows who they were merged with.
    """
    if picked.empty:
        return ""
    cols = [
        c
        for c in (
            "source_person_id",
            "dblp",
            "label_institution",
            "raw_affiliation",
            "career_position",
        )
        if c in authorships.columns
    ]
    a = authorships.select("authorship_id", "paper_id", "author_name", "venue", "year", *cols)
    people = assignments.filter(assignments.person_key.isin(list(picked.person_key.unique())))
    outside = (
        a.join(people.select("authorship_id", "person_key"), "authorship_id")
        .filter(~(a.venue.cast("string") + a.year.cast("string")).isin(list(hide)))
        .to_pandas()
    )
    hidden = a.filter(a.authorship_id.isin(list(picked.authorship_id))).to_pandas()
    paper_ids = list(set(outside.paper_id) | set(hidden.paper_id))
    names = (
        a.filter(a.paper_id.isin(paper_ids))
        .select("paper_id", "author_name", "authorship_id")
        .to_pandas()
    )
    authors = {
        pid: list(zip(g.authorship_id, g.author_name, strict=True))
        for pid, g in names.groupby("paper_id")
    }
    titles: dict[str, str] = {}
    if papers is not None:
        t = papers.filter(papers.paper_id.isin(paper_ids)).select("paper_id", "title").to_pandas()
        titles = dict(zip(t.paper_id, t.title, strict=True))

    def first(r: Any, *columns: str) -> str:
        return next((str(r[c]) for c in columns if c in r and pd.notna(r[c])), "")

    def line(r: Any) -> str:
        ids = " ".join(str(r[c]) for c in ("source_person_id", "dblp") if c in r and pd.notna(r[c]))
        place = first(r, "label_institution", "raw_affiliation")
        others = [n for i, n in authors.get(r["paper_id"], []) if i != r["authorship_id"]]
        title = str(titles.get(r["paper_id"]) or "")[:80]
        return (
            f"{r['venue']}{r['year']} | {r['author_name']} | {ids} | {place}"
            f" | {first(r, 'career_position')} | {title} | co-authors: {', '.join(others[:6])}"
        )

    blocks = []
    hidden = hidden.set_index("authorship_id", drop=False)
    for p in picked.itertuples():
        mine = outside[outside.person_key == p.person_key].sort_values(["year", "authorship_id"])
        if own is not None:
            mine = mine[~mine.authorship_id.isin(own.get(p.authorship_id, set()))]
        lines = [
            f"#{p.review_id} [{p.attached_to}] {p.authorship_id} -> {p.person_key}"
            f" | evidence: {p.cluster_evidence}",
            "  hidden:   " + line(hidden.loc[p.authorship_id]),
            *("  attached: " + line(r) for _, r in mine.head(shown).iterrows()),
        ]
        if len(mine) > shown:
            lines.append(f"  ... {len(mine)} authorships outside in all")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_sheet(path: str | Path, text: str, picked: pd.DataFrame) -> None:
    """Write a review sheet and, beside it (same name, ``.csv``), the labels' template."""
    Path(path).write_text(text, encoding="utf-8")
    template = picked[["review_id", "authorship_id", "author_name", "attached_to", "person_key"]]
    template.assign(verdict="", reason="").to_csv(Path(path).with_suffix(".csv"), index=False)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: print the estimate from an evaluation's rows and labels."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True, help="the evaluation's --dump Parquet file")
    parser.add_argument("--labels", required=True, help="CSV with authorship_id and verdict")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument(
        "--drop-unmade",
        action="store_true",
        help="leave out labels of links these rows no longer make (only when the rows' run "
        "took links back from the labelled run and made no new ones)",
    )
    args = parser.parse_args(argv)
    rows = pd.read_parquet(args.rows)
    labels = pd.read_csv(args.labels)
    try:
        point, high, strata = estimate(rows, labels, args.confidence, drop_unmade=args.drop_unmade)
    except ValueError as e:
        raise SystemExit(f"evaluate review: {args.labels}: {e}") from None
    kept = set(labels.authorship_id) & set(wrong_new(rows).authorship_id)
    if len(kept) < len(labels):
        print(f"left out {len(labels) - len(kept)} labels of links these rows do not make")
    for s in strata:
        print(
            f"{s.name:>10}: {s.share_of_new:.4f} of new people; reviewed {s.reviewed}, "
            f"not the same human {s.wrong} ({s.rate:.2f}, upper {s.upper:.2f})"
        )
    print(
        f"new people truly wrongly attached: {point:.4f} "
        f"(upper bound at {args.confidence:.0%}: {high:.4f})"
    )


if __name__ == "__main__":
    main()
