"""From scored pairs to persons, with guards against collapsing people.

Entities are *strong* identifier clusters (they carry a profile id: OpenReview, ACL, IEEE,
OpenAlex, DBLP, ORCID), and *free* entities: authorships without an id and clusters known
only by a hashed e-mail (old OpenReview records use a different address on different papers,
so such a cluster is often a fragment of a person). Rules, in order:

1. A free entity joins the strong cluster it matches best when the match probability reaches
   ``attach_threshold`` *and* the runner-up strong cluster is at least ``margin`` match
   weight (log2 Bayes factor) behind, or the best reaches ``sure_threshold`` (then the
   runner-up is near-certain too, which in practice means two id fragments of one human,
   e.g. an ACL id and an OpenReview profile never seen together: joining the best beats
   leaving the record alone). Strong clusters are never merged with each other, not even
   through a free entity (best link only, never transitive).
2. A cluster never receives an entity that shares a paper with it (one slot per paper).
3. Free entities left over are grouped by connected components over pairs with probability
   >= ``pair_threshold`` (never two on one paper); a group that links (same threshold) to
   attached entities of exactly one strong cluster joins that cluster, otherwise it is a new
   person.

Common names are held apart by the term-frequency-adjusted name weight (the frequency is the
share of identified people with that name, so agreeing on "Wei Wang" is weak evidence and
co-authors, institutions or e-mail domains must agree too) and by the runner-up margin.
"""

from __future__ import annotations

from typing import Any

import ibis

from talentflow.identity.identifiers import components

#: Default decision thresholds (recorded with each build).
#: Where the free-entity groups are written (dropped with the stage's other intermediates).
GROUPS_TABLE = "_identity_groups"

DEFAULTS: dict[str, float] = {
    "attach_threshold": 0.5,
    "pair_threshold": 0.99,
    "margin": 1.0,
    "sure_threshold": 0.999,
}

_MW_PREFIX = "mw_"


def evidence_expr(pairs: ibis.Table) -> ibis.Value:
    """A compact ``comparison:weight`` string of one scored pair (for ``link explain``)."""
    parts = [
        ibis.literal(f"{c[len(_MW_PREFIX) :]}:") + pairs[c].round(1).cast("string")
        for c in pairs.columns
        if c.startswith(_MW_PREFIX) and not c.startswith("mw_tf_")
    ]
    if not parts:
        return ibis.null("string")
    out = parts[0]
    for part in parts[1:]:
        out = out + ";" + part
    return out


def members_table(features: ibis.Table, clusters: ibis.Table) -> ibis.Table:
    """``(entity_id, authorship_id, paper_id, strong)`` for every authorship."""
    f = features.select("authorship_id", "paper_id")
    in_cluster = f.join(clusters, "authorship_id").select(
        entity_id=clusters.cluster_key,
        authorship_id=f.authorship_id,
        paper_id=f.paper_id,
        strong=clusters.strong,
    )
    alone = f.anti_join(clusters, "authorship_id").select(
        entity_id=f.authorship_id,
        authorship_id=f.authorship_id,
        paper_id=f.paper_id,
        strong=ibis.literal(False),
    )
    return in_cluster.union(alone)


def _not_sharing_a_paper(
    pairs: ibis.Table, left: str, right: str, ent_papers: ibis.Table
) -> ibis.Table:
    """``pairs`` without the rows whose two entities have an authorship on one paper.

    Looked up per candidate pair (entity papers joined on both sides), never by pairing all
    authors of every paper with each other.
    """
    lp = ent_papers.select(**{left: ent_papers.entity_id, "paper_id": ent_papers.paper_id})
    rp = ent_papers.select(**{right: ent_papers.entity_id, "paper_id": ent_papers.paper_id})
    keys = pairs.select(left, right).distinct()
    clash = keys.join(lp, left).join(rp, [right, "paper_id"]).select(left, right).distinct()
    return pairs.anti_join(clash, [left, right])


def decide(
    pairs: ibis.Table, members: ibis.Table, *, params: dict[str, Any] | None = None
) -> ibis.Table:
    """Map every free entity that links to someone onto a person key.

    Returns ``(entity_id, person_key, rule, match_probability, cluster_evidence)`` for free
    entities that were attached to a strong cluster or grouped with other free entities.
    Intermediate results are cached on the backend (each is used several times).
    """
    p = {**DEFAULTS, **(params or {})}
    mw = [c for c in pairs.columns if c.startswith(_MW_PREFIX)]
    ent_papers = members.select("entity_id", "paper_id").distinct().cache()

    # 1. free -> strong candidates, excluding clusters that share a paper with the entity.
    sel = {"p": pairs.match_probability, "w": pairs.match_weight, **{c: pairs[c] for c in mw}}
    lf = pairs.filter(~pairs.is_cluster_l & pairs.is_cluster_r).select(
        free=pairs.entity_id_l, cluster=pairs.entity_id_r, **sel
    )
    rf = pairs.filter(pairs.is_cluster_l & ~pairs.is_cluster_r).select(
        free=pairs.entity_id_r, cluster=pairs.entity_id_l, **sel
    )
    rc = _not_sharing_a_paper(lf.union(rf, distinct=False), "free", "cluster", ent_papers)
    win = ibis.window(group_by="free", order_by=[ibis.desc("w"), "cluster"])
    ranked = rc.mutate(rk=ibis.row_number().over(win), w2=rc.w.lead().over(win))
    best = ranked.filter(ranked.rk == 0)
    attached = (
        best.filter(
            (best.p >= p["attach_threshold"])
            & (
                best.w2.isnull()
                | (best.w - best.w2 >= p["margin"])
                | (best.p >= p["sure_threshold"])
            )
        )
        .select(
            entity_id=best.free,
            person_key=best.cluster,
            rule=ibis.literal("splink"),
            match_probability=best.p,
            cluster_evidence=evidence_expr(best),
        )
        .cache()
    )

    # 3. free <-> free edges at the pair threshold, never two entities on one paper.
    rr = pairs.filter(
        ~pairs.is_cluster_l & ~pairs.is_cluster_r & (pairs.match_probability >= p["pair_threshold"])
    ).select(a=pairs.entity_id_l, b=pairs.entity_id_r, p=pairs.match_probability)
    rr = _not_sharing_a_paper(rr, "a", "b", ent_papers).cache()
    free_edges = rr.anti_join(attached.select(a=attached.entity_id), "a").anti_join(
        attached.select(b=attached.entity_id), "b"
    )
    # A backend table, not a memtable: Ibis's PySpark backend cannot cache expressions that
    # read a memtable (the memtable is never registered in the Spark session).
    groups = pairs.get_backend().create_table(
        GROUPS_TABLE, components(free_edges.select("a", "b").to_pyarrow()), overwrite=True
    )
    fwd = rr.select(free=rr.a, other=rr.b, p=rr.p)
    bwd = rr.select(free=rr.b, other=rr.a, p=rr.p)
    cross = fwd.union(bwd, distinct=False)
    cross = cross.anti_join(attached.select(free=attached.entity_id), "free").join(
        attached.select(other=attached.entity_id, cluster=attached.person_key), "other"
    )
    cross = cross.left_join(groups, cross.free == groups.node)
    cross = cross.mutate(grp=cross.component.fill_null(cross.free))
    votes = cross.group_by("grp").aggregate(
        n_clusters=cross.cluster.nunique(), cluster=cross.cluster.min(), p=cross.p.max()
    )
    adopt = votes.filter(votes.n_clusters == 1).select("grp", "cluster", "p").cache()

    grouped = groups.select(entity_id=groups.node, grp=groups.component)
    grouped = grouped.left_join(adopt, "grp").drop("grp_right")
    via = grouped.select(
        "entity_id",
        person_key=grouped.cluster.fill_null(grouped.grp),
        rule=ibis.literal("splink"),
        match_probability=grouped.p,
        cluster_evidence=ibis.ifelse(
            grouped.cluster.notnull(),
            ibis.literal("via linked authorships"),
            ibis.literal("grouped with unidentified authorships"),
        ),
    )
    # Ungrouped free entities adopted through a direct edge to an attached entity.
    lone = adopt.anti_join(groups.select(grp=groups.node), "grp")
    lone = lone.select(
        entity_id=lone.grp,
        person_key=lone.cluster,
        rule=ibis.literal("splink"),
        match_probability=lone.p,
        cluster_evidence=ibis.literal("via linked authorships"),
    )
    return attached.union(via).union(lone)


def assign(
    features: ibis.Table,
    clusters: ibis.Table,
    pairs: ibis.Table | None,
    *,
    params: dict[str, Any] | None = None,
) -> ibis.Table:
    """Every authorship's person key and the rule that put it there (see module docstring).

    ``clusters`` is ``(authorship_id, cluster_key, strong)``.
    """
    members = members_table(features, clusters)
    schema = ibis.schema(
        {
            "entity_id": "string",
            "person_key": "string",
            "rule": "string",
            "match_probability": "float64",
            "cluster_evidence": "string",
        }
    )
    if pairs is None:
        linked = ibis.memtable({k: [] for k in schema.names}, schema=schema)
    else:
        linked = decide(pairs, members, params=params).cast(schema)
    m = members.left_join(linked, "entity_id").drop("entity_id_right")
    in_cluster = m.entity_id != m.authorship_id
    # A person found only by linkage is keyed by its smallest member key.
    return m.select(
        "authorship_id",
        person_key=m.person_key.fill_null(m.entity_id),
        rule=ibis.cases(
            (m.strong, "identifier"),
            (m.rule.notnull(), m.rule),
            (in_cluster, "identifier"),
            else_="singleton",
        ),
        match_probability=ibis.ifelse(m.strong, ibis.null("float64"), m.match_probability),
        cluster_evidence=ibis.ifelse(m.strong, ibis.null("string"), m.cluster_evidence),
    )
