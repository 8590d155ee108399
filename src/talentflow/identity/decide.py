"""From scored pairs to persons, with guards against collapsing people.

Rules, in order:

1. An unidentified authorship joins the identifier cluster it matches best when the match
   probability reaches ``attach_threshold`` *and* the runner-up cluster is at least
   ``margin`` match-weight (log2 Bayes factor) behind. Two identifier clusters are never
   merged through an unidentified record (best link only, not transitive).
2. A cluster never receives a record from a paper it already has an author slot on.
3. Unattached authorships are grouped among themselves by connected components over pairs
   with probability >= ``pair_threshold``; a group that links (same threshold) to attached
   authorships of exactly one cluster joins that cluster, otherwise it is a new person.

Common names are held apart by the term-frequency-adjusted name weight (agreeing on "Wei
Wang" is weak evidence, so co-authors, institutions or e-mail domains must agree too) and by
the runner-up margin.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from talentflow.identity.identifiers import components

#: Default decision thresholds (recorded with each build).
DEFAULTS: dict[str, float] = {
    "attach_threshold": 0.95,
    "pair_threshold": 0.99,
    "margin": 3.0,
}

_MW_PREFIX = "mw_"


def evidence_expr(pairs: ibis.Table) -> ibis.Value:
    """A compact ``comparison:weight`` string of one scored pair (for ``link explain``)."""
    parts = [
        ibis.literal(f"{c[len(_MW_PREFIX):]}:") + pairs[c].round(1).cast("string")
        for c in pairs.columns
        if c.startswith(_MW_PREFIX)
    ]
    if not parts:
        return ibis.null("string")
    out = parts[0]
    for part in parts[1:]:
        out = out + ";" + part
    return out


def decide(
    pairs: ibis.Table,
    features: ibis.Table,
    clusters: ibis.Table,
    *,
    params: dict[str, Any] | None = None,
) -> ibis.Table:
    """Assign every authorship to a person key.

    Parameters
    ----------
    pairs
        Scored entity pairs (``entity_id_l/_r``, ``is_cluster_l/_r``, ``match_probability``,
        ``match_weight``, ``mw_*``).
    features
        Per-authorship features (``authorship_id``, ``paper_id``).
    clusters
        ``(authorship_id, cluster_key)`` of identified authorships.

    Returns
    -------
    ibis.Table
        ``authorship_id, person_key, rule, match_probability, cluster_evidence``.
    """
    p = {**DEFAULTS, **(params or {})}
    pairs = pairs.mutate(evidence=evidence_expr(pairs))
    papers = features.select("authorship_id", "paper_id")
    cluster_papers = clusters.join(papers, "authorship_id").select("cluster_key", "paper_id").distinct()

    # 1. record -> cluster candidates, excluding clusters already on the record's paper.
    left_rec = pairs.filter(~pairs.is_cluster_l & pairs.is_cluster_r).select(
        record=pairs.entity_id_l,
        cluster=pairs.entity_id_r,
        p=pairs.match_probability,
        w=pairs.match_weight,
        evidence=pairs.evidence,
    )
    right_rec = pairs.filter(pairs.is_cluster_l & ~pairs.is_cluster_r).select(
        record=pairs.entity_id_r,
        cluster=pairs.entity_id_l,
        p=pairs.match_probability,
        w=pairs.match_weight,
        evidence=pairs.evidence,
    )
    rc = left_rec.union(right_rec, distinct=False)
    rc = rc.join(papers, rc.record == papers.authorship_id).drop("authorship_id")
    rc = rc.anti_join(
        cluster_papers,
        [rc.cluster == cluster_papers.cluster_key, rc.paper_id == cluster_papers.paper_id],
    )
    win = ibis.window(group_by="record", order_by=[ibis.desc("w"), "cluster"])
    ranked = rc.mutate(rk=ibis.row_number().over(win), w2=rc.w.lead().over(win))
    best = ranked.filter(ranked.rk == 0)
    attached = best.filter(
        (best.p >= p["attach_threshold"]) & (best.w2.isnull() | (best.w - best.w2 >= p["margin"]))
    ).select(
        authorship_id=best.record,
        person_key=best.cluster,
        rule=ibis.literal("splink"),
        match_probability=best.p,
        cluster_evidence=best.evidence,
    )

    # 3. record <-> record edges at the pair threshold.
    rr = pairs.filter(
        ~pairs.is_cluster_l & ~pairs.is_cluster_r & (pairs.match_probability >= p["pair_threshold"])
    ).select(a=pairs.entity_id_l, b=pairs.entity_id_r, p=pairs.match_probability, evidence=pairs.evidence)
    pa_ = papers.select(a=papers.authorship_id, pa=papers.paper_id)
    pb_ = papers.select(b=papers.authorship_id, pb=papers.paper_id)
    rr = rr.join(pa_, "a").join(pb_, "b")
    rr = rr.filter(rr.pa != rr.pb).select("a", "b", "p", "evidence")
    done_a = attached.select(a=attached.authorship_id)
    done_b = attached.select(b=attached.authorship_id)
    free_edges = rr.anti_join(done_a, "a").anti_join(done_b, "b")
    groups = ibis.memtable(components(free_edges.select("a", "b").to_pyarrow()))
    # Edges from a free group to attached records, and the clusters those records joined.
    fwd = rr.select(free=rr.a, other=rr.b, p=rr.p, evidence=rr.evidence)
    bwd = rr.select(free=rr.b, other=rr.a, p=rr.p, evidence=rr.evidence)
    cross = fwd.union(bwd, distinct=False)
    cross = cross.anti_join(attached.select(free=attached.authorship_id), "free").join(
        attached.select(other=attached.authorship_id, cluster=attached.person_key), "other"
    )
    cross = cross.left_join(groups, cross.free == groups.node)
    cross = cross.mutate(group=cross.component.fill_null(cross.free))
    votes = cross.group_by("group").aggregate(
        n_clusters=cross.cluster.nunique(), cluster=cross.cluster.min(), p=cross.p.max()
    )
    adopt = votes.filter(votes.n_clusters == 1).select("group", "cluster", "p")
    return attached, groups, adopt, rr


def assign(
    features: ibis.Table,
    clusters: ibis.Table,
    pairs: ibis.Table | None,
    *,
    params: dict[str, Any] | None = None,
) -> ibis.Table:
    """Every authorship's person key and the rule that put it there (see module docstring)."""
    ids = features.select("authorship_id")
    ident = clusters.select(
        "authorship_id",
        person_key=clusters.cluster_key,
        rule=ibis.literal("identifier"),
        match_probability=ibis.null("float64"),
        cluster_evidence=ibis.null("string"),
    )
    if pairs is None:
        attached = ident.limit(0)
        groups = ibis.memtable(pa.table({"node": pa.array([], pa.string()), "component": pa.array([], pa.string())}))
        adopt = ibis.memtable(
            pa.table({"group": pa.array([], pa.string()), "cluster": pa.array([], pa.string()), "p": pa.array([], pa.float64())})
        )
    else:
        attached, groups, adopt, _ = decide(pairs, features, clusters, params=params)
    rest = ids.anti_join(clusters, "authorship_id").anti_join(attached, "authorship_id")
    rest = rest.left_join(groups, rest.authorship_id == groups.node)
    rest = rest.mutate(group=rest.component.fill_null(rest.authorship_id), in_group=rest.component.notnull())
    rest = rest.left_join(adopt, "group")
    # A new person's key is its smallest authorship id.
    group_min = rest.group_by("group").aggregate(min_member=rest.authorship_id.min())
    rest = rest.join(group_min, "group")
    rest = rest.select(
        "authorship_id",
        person_key=rest.cluster.fill_null(rest.min_member),
        rule=ibis.cases(
            (rest.cluster.notnull(), "splink"),
            (rest.in_group, "splink"),
            else_="singleton",
        ),
        match_probability=ibis.ifelse(rest.cluster.notnull(), rest.p, ibis.null("float64")),
        cluster_evidence=ibis.ifelse(
            rest.cluster.notnull(), ibis.literal("via linked authorships"), ibis.null("string")
        ),
    )
    return ident.union(attached.cast(ident.schema())).union(rest.cast(ident.schema()))
