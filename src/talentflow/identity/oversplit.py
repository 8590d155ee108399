"""Over-splitting: into how many person records one human falls when none of their ids is seen.

A hash sample of the humans holding an OpenReview profile (the identifier clusters of the
unmasked corpus that carry an ``openreview:~`` id, chosen by the MD5 of the cluster's smallest
profile id and a seed) loses every id on every authorship, in every year; the corpus is linked
again and each sampled human is read from the truth:

- **records per human**: the distinct person records their authorships ended up in (1 is
  perfect; a famous author split over 11 records shows here);
- **wrong merges**: the share of their authorships placed in a person record that also holds
  an authorship of another human (another identifier cluster of the truth), split by what that
  other human carries: an OpenReview profile (certainly another human, unless it is the same
  human's second profile) or other ids only (ACL, DBLP, e-mail: often the same human under an
  id the truth does not connect). Unidentified records have no truth and are never counted.
  Merges whose only other profile holders hold *bare* profiles (an id and a name, nothing
  else on any record: :func:`bare_profiles`) are also counted apart: such a stub is most
  often the same human's second profile, and no id says whose it is.

Two seeds are fixed up front: :data:`DEVELOPMENT_SEED` for changes to the linkage,
:data:`HELD_OUT_SEED` for the reported figures (about 10% of profiles each; the samples
overlap by chance only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from talentflow.identity import review, sampling
from talentflow.identity.link import link
from talentflow.identity.truth import mask, write_truth

DEFAULT_FRACTION = 0.1
DEVELOPMENT_SEED = 1
HELD_OUT_SEED = 2

_HIDDEN = "_eval_oversplit_hidden"


def sampled_humans(
    authorships: ibis.Table, truth: ibis.Table, fraction: float, seed: int
) -> ibis.Table:
    """``(cluster_key, profile)`` of about ``fraction`` of the truth's clusters that carry an
    OpenReview profile, chosen by the MD5 of their smallest profile id and ``seed``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"the over-split fraction must be between 0 and 1, got {fraction}")
    spid = authorships.source_person_id.cast("string")
    prof = authorships.filter(spid.startswith("openreview:~")).select("authorship_id", pid=spid)
    j = truth.join(prof, "authorship_id")
    per = j.group_by("cluster_key").aggregate(profile=j.pid.min())
    n = int(per.count().execute())
    if fraction == 0.0:
        return per.limit(0)
    return per.filter(sampling.hash_pick(per.profile, fraction * n, n, seed))


#: Columns whose value on any of a human's authorships says more than a name: a place, a
#: career stage, an id of another registry.
CONTENT_COLUMNS = (
    "raw_affiliation", "email_domain", "career_position", "dblp", "scholar", "linkedin", "orcid",
)  # fmt: skip


def profile_kinds(authorships: ibis.Table, truth: ibis.Table) -> ibis.Table:
    """``(cluster_key, profile, bare)`` per human of the truth: ``profile`` when any of their
    authorships carries an ``openreview:~`` id, ``bare`` when every one carries such an id
    and nothing of :data:`CONTENT_COLUMNS` (see :func:`bare_profiles`)."""
    said = ibis.literal(False)
    for c in CONTENT_COLUMNS:
        if c in authorships.columns:
            v = authorships[c].cast("string").strip()
            said = said | (v.notnull() & (v != ""))
    profile = (
        authorships.source_person_id.cast("string").startswith("openreview:~").fill_null(False)
    )
    a = authorships.select("authorship_id", said=said | ~profile, profile=profile)
    a = a.join(truth, "authorship_id")
    per = a.group_by("cluster_key").aggregate(profile=a.profile.max(), said=a.said.max())
    return per.select("cluster_key", "profile", bare=~per.said)


def bare_profiles(authorships: ibis.Table, truth: ibis.Table) -> ibis.Table:
    """``cluster_key`` of the truth's humans known by bare OpenReview profiles only: every
    authorship carries an ``openreview:~`` id and nothing of :data:`CONTENT_COLUMNS`.

    Such a profile is a name and an id (``~Jimeng_Sun1``: one NeurIPS 2021 record, no
    affiliation, no e-mail domain, no DBLP or Scholar link, while ``~Jimeng_Sun3`` holds
    the professor's 21 records). Nothing tells whose it is, so a merge with it is reported
    apart from merges with profiles that say where and who their holder is.
    """
    kinds = profile_kinds(authorships, truth)
    return kinds.filter(kinds.bare).select("cluster_key")


def human_rows(
    authorships: ibis.Table,
    truth: ibis.Table,
    assignments: ibis.Table,
    humans: ibis.Table,
) -> ibis.Table:
    """One row per authorship of a sampled human: its human (``cluster_key``), the person
    record it got (``person_key``, ``rule``) and ``merged_with``: ``openreview`` when that
    record also holds an authorship of another human with an OpenReview profile, ``other
    ids`` when only of other humans without one, NULL when of no other human; ``other_key``:
    the smallest such other human's key; ``bare_profile``: every other profile holder there
    holds a bare profile only (:func:`bare_profiles`); ``own_bare``: the sampled human holds
    a bare profile only (the hidden records are then a name and co-authors, nothing else)."""
    kinds = profile_kinds(authorships, truth)
    t = truth.join(
        assignments.select("authorship_id", "person_key", "rule", "cluster_evidence"),
        "authorship_id",
    )
    members = t.select("person_key", "cluster_key").distinct()
    members = members.left_join(kinds, "cluster_key").drop("cluster_key_right")
    members = members.mutate(
        profile=members.profile.fill_null(False), bare=members.bare.fill_null(False)
    )
    mine = t.filter(t.cluster_key.isin(humans.cluster_key))
    # Per (person record, human): is another human with a profile there, or any other human?
    pairs = mine.select("person_key", "cluster_key").distinct()
    other = members.rename(other_key="cluster_key", other_profile="profile", other_bare="bare")
    mixed = pairs.join(other, "person_key").filter(lambda x: x.other_key != x.cluster_key)
    mixed = mixed.group_by(["person_key", "cluster_key"]).aggregate(
        with_profile=mixed.other_profile.max(),
        # Every other profile holder there holds a bare profile only.
        bare_only=~(mixed.other_profile & ~mixed.other_bare).max(),
        other_key=mixed.other_key.min(),
    )
    out = mine.left_join(mixed, ["person_key", "cluster_key"])
    out = out.drop("person_key_right", "cluster_key_right")
    named = out.join(authorships.select("authorship_id", "author_name", "year"), "authorship_id")
    own = kinds.filter(kinds.bare).select("cluster_key")
    named = named.mutate(own_bare=named.cluster_key.isin(own.cluster_key))
    return named.select(
        "authorship_id",
        "author_name",
        "year",
        "cluster_key",
        "person_key",
        "rule",
        "cluster_evidence",
        "other_key",
        bare_profile=(named.with_profile & named.bare_only).fill_null(False),
        own_bare=named.own_bare.fill_null(False),
        merged_with=ibis.cases(
            (named.with_profile, "openreview"),
            (named.with_profile.notnull(), "other ids"),
            else_=ibis.null("string"),
        ),
    )


def scores_of(df: pd.DataFrame, labels: pd.DataFrame | None = None) -> dict[str, Any]:
    """The figures from :func:`human_rows` (as pandas).

    ``labels``: a clerical review's labels (``attached_to``, ``verdict``), whose per-stratum
    rates give the fragmentation-aware reading of the wrong merges (an extrapolation from
    the links that review judged).
    """
    if df.empty:
        return {"humans": 0, "authorships": 0}
    per = df.groupby("cluster_key").agg(
        n=("authorship_id", "size"),
        records=("person_key", "nunique"),
        name=("author_name", lambda s: s.mode().iloc[0]),
    )
    several = per[per.n >= 2]
    n_rows = len(df)
    kinds = df.merged_with.value_counts().to_dict()
    shares = {k: v / n_rows for k, v in kinds.items()}
    worst = per.sort_values(["records", "n"], ascending=False).head(5)
    out: dict[str, Any] = {
        "humans": len(per),
        "authorships": n_rows,
        "records per human (mean)": round(float(per.records.mean()), 3),
        "humans with 2+ authorships": len(several),
        "records per human with 2+ authorships (mean)": (
            round(float(several.records.mean()), 3) if len(several) else float("nan")
        ),
        "share of humans in one record": round(float((per.records == 1).mean()), 3),
        "share of humans in one record, 2+ authorships": (
            round(float((several.records == 1).mean()), 3) if len(several) else float("nan")
        ),
        "most records": [f"{r.name} ({r.records} of {r.n})" for r in worst.itertuples()],
        "wrong merges (truth)": round(sum(shares.values()), 4),
        **{f"wrong merges: with {k}": round(v, 4) for k, v in sorted(shares.items())},
    }
    if "bare_profile" in df.columns:
        bare = int((df.merged_with.eq("openreview") & df.bare_profile).sum())
        out["wrong merges: with openreview, bare profiles only"] = round(bare / n_rows, 4)
        out["wrong merges: with a profile that says more than a name"] = round(
            kinds.get("openreview", 0) / n_rows - bare / n_rows, 4
        )
    if {"bare_profile", "own_bare"} <= set(df.columns):
        # Neither side a bare stub: the merges the ids' truth can judge with confidence.
        both = df.merged_with.eq("openreview") & ~df.bare_profile & ~df.own_bare
        out["wrong merges: between profiles that both say more than a name"] = round(
            int(both.sum()) / n_rows, 4
        )
    if "other_key" in df.columns:
        # Which ids the other humans of "other ids" hold: hashed e-mails of old OpenReview
        # records are mostly the same human's own earlier records (fragments of the truth).
        others = df[df.merged_with == "other ids"].other_key.str.split(":").str[0]
        for k, v in sorted(others.value_counts().to_dict().items()):
            out[f"wrong merges: with other ids, {k}"] = round(v / n_rows, 4)
    if labels is not None:
        point, high = review.transferred(shares, labels)
        out["wrong merges, fragmentation-aware (review rates; upper 95%)"] = [
            round(point, 4),
            round(high, 4),
        ]
    return out


def review_sample(df: pd.DataFrame, per_stratum: int = 25, seed: int = 20261130) -> pd.DataFrame:
    """Up to ``per_stratum`` wrongly merged authorships per stratum (``merged_with``: another
    profile's holder, other ids only), drawn with ``seed``, in the columns of
    :func:`review.sample` (``attached_to`` is the stratum): the picks of a clerical review whose
    labels, given back as ``labels``, read this run's wrong merges by its own rates."""
    merged = df[df.merged_with.notna()].assign(attached_to=lambda x: x.merged_with)
    return review.draw(merged, per_stratum, seed)


def evaluate(
    con: Any,
    authorships: ibis.Table,
    papers: ibis.Table | None,
    *,
    fraction: float = DEFAULT_FRACTION,
    seed: int = HELD_OUT_SEED,
    params: dict[str, Any] | None = None,
    dump: str | Path | None = None,
    labels: pd.DataFrame | None = None,
    review_sheet: str | Path | None = None,
    review_per_stratum: int = 25,
    review_seed: int = 20261130,
) -> dict[str, Any]:
    """Hide every id of a ``fraction`` of OpenReview humans (hash sample with ``seed``), link
    again and measure over-splitting and wrong merges (see the module's text).

    ``dump`` writes the rows (:func:`human_rows`) to a Parquet file; ``labels``, a clerical
    review's labels, adds the fragmentation-aware reading of the wrong merges.
    ``review_sheet`` writes a sample of the wrong merges (:func:`review_sample`) with the
    other humans' records they were merged with, and a CSV beside it to fill in.
    """
    truth = write_truth(con, authorships)
    humans = sampled_humans(authorships, truth, fraction, seed)
    hidden = truth.filter(truth.cluster_key.isin(humans.cluster_key)).select("authorship_id")
    con.create_table(_HIDDEN, hidden, overwrite=True)
    masked = mask(
        con, authorships, authorships.authorship_id.isin(con.table(_HIDDEN).authorship_id)
    )
    result = link(con, masked, papers, params=params)
    rows = human_rows(authorships, con.table("_eval_truth"), result.assignments, humans)
    if dump is not None:
        rows.to_parquet(str(dump))
    df = rows.to_pandas()
    if review_sheet is not None:
        picked = review_sample(df, review_per_stratum, review_seed)
        own = df.groupby("cluster_key").authorship_id.agg(set).to_dict()
        mine = {a: own[c] for a, c in zip(picked.authorship_id, picked.cluster_key, strict=True)}
        text = review.sheet(con, authorships, papers, result.assignments, picked, hide=(), own=mine)
        review.write_sheet(review_sheet, text, picked)
    info = {"fraction": fraction, "seed": seed, **scores_of(df, labels)}
    result.drop(con)
    for name in ("_eval_names", "_eval_feats", "_eval_truth", "_eval_masked", _HIDDEN):
        con.drop_table(name, force=True)
    return info
