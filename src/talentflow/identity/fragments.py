"""Id fragments of one human: a strong identifier cluster without an OpenReview profile (an
ACL or DBLP id only), or with a bare one (an id and a name), and the one profile cluster of
the same name it joins (rule 0 of :mod:`talentflow.identity.decide`)."""

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
    bare_profiles: bool = False,
) -> ibis.Table:
    """``(entity_id, person_key, cluster_evidence)``: id fragments of one human, merged.

    One human often holds ids that never meet on one authorship: an ACL Anthology id, a
    DBLP id, an OpenReview profile. A strong cluster *without* an OpenReview profile joins
    the profile cluster with the same first-last name when they share ``min_coauthors``
    co-authors, or one co-author and an institution or e-mail domain, never a paper, and
    that profile cluster is its only such partner (two profiles of the name: left alone).
    A name held by ``common_name`` identified people or more needs twice the co-authors, or
    ``min_coauthors`` and a shared place. Profile clusters are never merged with each other
    (homonyms hold distinct profiles), but for bare profiles (``bare_profiles`` below).

    ``entities`` (the linkage's entity table, if already built) supplies the strong
    clusters' summaries instead of computing them again.

    ``scored`` (the scored pairs) with ``min_bridges`` > 0 adds a third kind of evidence:
    that many unidentified records (twice as many for a common name) match both clusters
    with probability ``bridge_p`` or more; the one-partner rule and the paper guard still
    apply.

    ``profiles`` (``cluster_key, profile`` of every named cluster, as
    :func:`features.cluster_names` gives them), when given, saves aggregating the profile
    flag over every identified authorship again.

    ``bare_profiles``: a *bare* profile cluster (no institution and no e-mail domain on any
    of its records: an id and a name, as ``~Jimeng_Sun1`` beside ``~Jimeng_Sun3``'s 21
    records) is a fragment too, and joins a profile cluster that says more under the same
    conditions. Nothing in a bare profile tells two holders of the name apart, so only
    the co-authors (or records matching both) can join it; a fragment that joined a bare
    profile follows it to the profile that one joined.
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
    said = (ent.institutions.length().fill_null(0) + ent.domains.length().fill_null(0)) > 0
    ent = ent.mutate(bare=ent.profile & ~said & ibis.literal(bare_profiles))
    # How many identified people hold the name: shared co-author *names* of a "Yang Liu"
    # are weaker evidence (the co-authors are often common names too).
    holders = ent.group_by("name_fl").aggregate(holders=ent.entity_id.count())
    ent = ent.join(holders, "name_fl")
    lo = ent.filter(~ent.profile | ent.bare)
    hi = ent.filter(ent.profile)
    pairs = lo.join(hi, "name_fl", lname="{name}_l", rname="{name}_r")
    # A bare profile joins a profile that says more, never another bare one (nor itself).
    pairs = pairs.filter(~pairs.bare_l | ~pairs.bare_r)
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
        bare=pairs.bare_l,
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
    if bare_profiles:
        pairs = _through_bare_profiles(pairs, ent_papers)
    n = pairs.group_by("frag").aggregate(n=pairs.prof.count())
    pairs = pairs.join(n.filter(n.n == 1), "frag")
    return pairs.select(
        entity_id=pairs.frag, person_key=pairs.prof, cluster_evidence=pairs.evidence
    )


def _through_bare_profiles(pairs: ibis.Table, ent_papers: ibis.Table) -> ibis.Table:
    """``pairs`` (``frag, prof, evidence, bare``) where a bare profile that joins its one
    partner is that partner for the other fragments: an ACL id sharing co-authors with
    ``~Jimeng_Sun1`` (a stub) and ``~Jimeng_Sun3`` has one candidate, not two."""
    stub = pairs.filter(pairs.bare)
    n = stub.group_by("frag").aggregate(n=stub.prof.count())
    roots = stub.join(n.filter(n.n == 1), "frag").select(stub_key="frag", root="prof")
    rest = pairs.filter(~pairs.bare)
    rest = rest.left_join(roots, rest.prof == roots.stub_key)
    rest = rest.select("frag", prof=rest.root.fill_null(rest.prof), evidence=rest.evidence)
    # The stub's pair and its root's pair are one: keep one evidence (the smallest).
    rest = rest.group_by(["frag", "prof"]).aggregate(evidence=rest.evidence.min())
    # The one-slot guard again, against the profile a stub led to.
    rest = not_sharing_a_paper(rest.view(), "frag", "prof", ent_papers)
    # ``view``: ibis would fold the next join on ``frag`` into this union's inputs' chains.
    return rest.union(pairs.filter(pairs.bare).select("frag", "prof", "evidence")).view()


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
