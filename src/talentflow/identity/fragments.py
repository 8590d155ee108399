"""Id fragments of one human: a strong identifier cluster without an OpenReview profile (an
ACL or DBLP id only) and the one profile cluster of the same name it joins (rule 0 of
:mod:`talentflow.identity.decide`)."""

from __future__ import annotations

import ibis

from talentflow.identity.features import cluster_entities
from talentflow.identity.same_paper import not_sharing_a_paper


def fragments(
    features: ibis.Table,
    clusters: ibis.Table,
    ent_papers: ibis.Table,
    *,
    min_coauthors: int = 2,
    common_name: int = 5,
    entities: ibis.Table | None = None,
    scored: ibis.Table | None = None,
    min_bridges: int = 0,
    bridge_p: float = 0.9,
    profiles: ibis.Table | None = None,
) -> ibis.Table:
    """``(entity_id, person_key, cluster_evidence)``: id fragments of one human, merged.

    One human often holds ids that never meet on one authorship: an ACL Anthology id, a
    DBLP id, an OpenReview profile. A strong cluster *without* an OpenReview profile joins
    the profile cluster with the same first-last name when they share ``min_coauthors``
    co-authors, or one co-author and an institution or e-mail domain, never a paper, and
    that profile cluster is its only such partner (two profiles of the name: left alone).
    A name held by ``common_name`` identified people or more needs twice the co-authors, or
    ``min_coauthors`` and a shared place. Profile clusters are never merged with each other
    (homonyms hold distinct profiles).

    ``entities`` (the linkage's entity table, if already built) supplies the strong
    clusters' summaries instead of computing them again.

    ``scored`` (the scored pairs) with ``min_bridges`` > 0 adds a third kind of evidence:
    that many unidentified records (twice as many for a common name) match both clusters
    with probability ``bridge_p`` or more; the one-partner rule and the paper guard still
    apply.

    ``profiles`` (``cluster_key, profile`` of every named cluster, as
    :func:`features.cluster_names` gives them), when given, saves aggregating the profile
    flag over every identified authorship again.
    """
    if profiles is None:
        f = features.select("authorship_id", "profile").join(
            clusters.filter(clusters.strong), "authorship_id"
        )
        prof = f.group_by("cluster_key").aggregate(profile=f.profile.max())
    else:
        prof = profiles.select("cluster_key", "profile")
    if entities is None:
        ent = cluster_entities(features, clusters.filter(clusters.strong))
    else:
        # The same rows: a strong cluster's entity is ``is_cluster``, any other is not.
        ent = entities.filter(entities.is_cluster)
    ent = ent.join(prof, ent.entity_id == prof.cluster_key).select(
        "entity_id", "name_fl", "coauthors", "institutions", "domains", "profile"
    )
    ent = ent.filter(ent.name_fl.notnull())
    # How many identified people hold the name: shared co-author *names* of a "Yang Liu"
    # are weaker evidence (the co-authors are often common names too).
    holders = ent.group_by("name_fl").aggregate(holders=ent.entity_id.count())
    ent = ent.join(holders, "name_fl")
    lo = ent.filter(~ent.profile)
    hi = ent.filter(ent.profile)
    pairs = lo.join(hi, "name_fl", lname="{name}_l", rname="{name}_r")
    co = pairs.coauthors_l.intersect(pairs.coauthors_r).length().fill_null(0)
    place = pairs.institutions_l.intersect(pairs.institutions_r).length().fill_null(
        0
    ) + pairs.domains_l.intersect(pairs.domains_r).length().fill_null(0)
    pairs = pairs.select(
        frag=pairs.entity_id_l,
        prof=pairs.entity_id_r,
        name=pairs.name_fl,
        co=co,
        place=place,
        common=pairs.holders_l >= common_name,
    )
    if scored is not None and min_bridges > 0:
        counts = _bridges(pairs.select("frag", "prof"), scored, bridge_p)
        pairs = pairs.left_join(counts, ["frag", "prof"]).drop("frag_right", "prof_right")
        pairs = pairs.mutate(bridges=pairs.n_bridges.fill_null(0)).drop("n_bridges")
    else:
        pairs = pairs.mutate(bridges=ibis.literal(0))
    evidence = (
        ibis.literal("id fragment: same name, ")
        + pairs.co.cast("string")
        + " shared co-authors, "
        + pairs.place.cast("string")
        + " shared places"
    )
    if scored is not None and min_bridges > 0:
        evidence = evidence + ", " + pairs.bridges.cast("string") + " records matching both"
    rare_ok = (
        (pairs.co >= min_coauthors)
        | ((pairs.co >= 1) & (pairs.place >= 1))
        | ((pairs.bridges >= min_bridges) & (min_bridges > 0))
    )
    common_ok = (
        (pairs.co >= 2 * min_coauthors)
        | ((pairs.co >= min_coauthors) & (pairs.place >= 1))
        | ((pairs.bridges >= 2 * min_bridges) & (min_bridges > 0))
    )
    pairs = pairs.mutate(evidence=evidence)
    pairs = pairs.filter(ibis.ifelse(pairs.common, common_ok, rare_ok))
    pairs = not_sharing_a_paper(pairs, "frag", "prof", ent_papers)
    n = pairs.group_by("frag").aggregate(n=pairs.prof.count())
    pairs = pairs.join(n.filter(n.n == 1), "frag")
    return pairs.select(
        entity_id=pairs.frag, person_key=pairs.prof, cluster_evidence=pairs.evidence
    )


def _bridges(candidates: ibis.Table, scored: ibis.Table, min_p: float) -> ibis.Table:
    """``(frag, prof, n_bridges)``: per candidate pair of ``candidates``, how many free
    entities match both clusters with probability ``min_p`` or more (records the two ids'
    holder wrote, as the scores see it: the two clusters are each other's runner-up).
    Pairs without such a record are absent."""
    s = scored.filter(scored.match_probability >= min_p)
    links = s.filter(~s.is_cluster_l & s.is_cluster_r).select(
        free=s.entity_id_l, cluster=s.entity_id_r
    )
    links = links.union(
        s.filter(s.is_cluster_l & ~s.is_cluster_r).select(free=s.entity_id_r, cluster=s.entity_id_l)
    ).distinct()
    keys = candidates.select("frag", "prof").distinct()
    a = keys.join(links, keys.frag == links.cluster).select("frag", "prof", "free")
    b = links.select(free2=links.free, prof2=links.cluster)
    both = a.join(b, (a.free == b.free2) & (a.prof == b.prof2))
    return both.group_by(["frag", "prof"]).aggregate(n_bridges=both.free.nunique())
