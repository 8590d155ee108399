"""From scored pairs to persons, with guards against collapsing people.

Entities are *strong* identifier clusters (they carry a profile id: OpenReview, ACL, IEEE,
OpenAlex, DBLP, ORCID), and *free* entities: authorships without an id and clusters known
only by a hashed e-mail (old OpenReview records use a different address on different papers,
so such a cluster is often a fragment of a person). Rules, in order:

0. Id fragments (:func:`fragments`): a strong cluster without an OpenReview profile (an ACL
   or DBLP id only) joins the one profile cluster of the same name with which it shares
   co-authors (and, for common names, a place); so does a *bare* profile cluster (an id and
   a name, no place on any record) with the one profile cluster of its name that says more.
   Otherwise strong clusters are never merged with each other, not even through a free
   entity (best link only, never transitive).
1. A free entity joins the strong cluster it matches best when the match probability reaches
   ``attach_threshold`` *and* the runner-up strong cluster is at least ``margin`` match
   weight (log2 Bayes factor) behind, or the best reaches ``sure_threshold`` (then the
   runner-up is near-certain too, which in practice means two id fragments of one human,
   e.g. an ACL id and an OpenReview profile never seen together: joining the best beats
   leaving the record alone). Merged fragments are one candidate. A best candidate holding
   exactly the entity's name, held by at most ``unique_name_holders`` identified people
   (the runner-up margin applying), is enough from
   ``unique_name_threshold`` on when that person was seen on two papers or at the same
   venue (``unique_name_support``), unless the record names another institution than the
   person's and the name is common by its parts (:mod:`talentflow.identity.name_parts`).
   A best candidate holding exactly the entity's name and
   sharing a co-author with it is enough from ``coauthor_name_threshold`` on (a new year's
   new institution weighs against a person whose old co-author stays).
2. A cluster never receives an entity that shares a paper with it (one slot per paper).
3. Free entities left over are grouped by connected components over pairs with probability
   >= ``pair_threshold`` (never two on one paper); a group that links (same threshold) to
   attached entities of exactly one strong cluster joins that cluster; a group no cluster
   adopted joins the one cluster all its members with a candidate have as their best (exact
   name, margin), when one of them shares a co-author with it or reaches
   ``group_threshold`` (:func:`_group_candidates`); otherwise it is a new person.

Common names are held apart by the term-frequency-adjusted name weight (the frequency is the
share of identified people with that name, so agreeing on "Wei Wang" is weak evidence and
co-authors, institutions or e-mail domains must agree too) and by the runner-up margin.
"""

from __future__ import annotations

from typing import Any

import ibis

from talentflow.identity import career, evidence
from talentflow.identity import name_parts as name_parts_mod
from talentflow.identity.fragments import fragments
from talentflow.identity.identifiers import components
from talentflow.identity.same_paper import not_sharing_a_paper
from talentflow.identity.scratch import scratch_table

#: Default decision thresholds (recorded with each build).
#: Where the free-entity groups are written (dropped with the stage's other intermediates).
GROUPS_TABLE = "_identity_groups"
#: Intermediate tables of the decisions (dropped with the stage's others). Real tables, not
#: ``cache()``: a Spark cached view keeps its whole lineage, and the guards' plans over
#: plans exhausted a 1 GB driver while Spark analysed them.
SCRATCH_TABLES = (
    GROUPS_TABLE,
    "_identity_best", "_identity_attached", "_identity_adopt", "_identity_adopt_guarded",
    "_identity_adopt_keys", "_identity_venue_years", "_identity_places", "_identity_vy_best",
    "_identity_vy_adopt", "_identity_ent_papers", "_identity_ranked", "_identity_free_edges",
    "_identity_adopt_grouped", "_identity_decide_members", "_identity_decide_fragments",
)  # fmt: skip

DEFAULTS: dict[str, float] = {
    "attach_threshold": 0.5,
    # Free entities are grouped from this probability on (was 0.99: a famous author's
    # unidentified papers, with the same rare name and two shared co-authors, score 0.92 to
    # 0.98 and stayed in many person records; chosen on the development splits).
    "pair_threshold": 0.95,
    "margin": 1.0,
    "sure_threshold": 0.999,
    # Fragments: a strong cluster without an OpenReview profile joins the one profile
    # cluster of the same first-last name with which it shares this many co-authors (or
    # one co-author and an institution or e-mail domain). 0 turns fragment merging off.
    "fragment_coauthors": 2.0,
    # ... twice that, or that many and a shared place, for a name held by this many
    # identified people or more.
    "fragment_common_name": 5.0,
    # ... or this many unidentified records matching both clusters with probability
    # ``fragment_bridge_probability`` or more (twice as many for a common name): the two are
    # each other's runner-up for the same records. 0 turns it off.
    "fragment_bridges": 2.0,
    "fragment_bridge_probability": 0.9,
    # A bare OpenReview profile (no institution, no e-mail domain on any record: a stub such
    # as ``~Jimeng_Sun1`` beside the professor's ``~Jimeng_Sun3``) is an id fragment too and
    # joins the one profile cluster of its name that says more, by the rules above. 0 turns
    # it off.
    "bare_profile_fragments": 1.0,
    # A renamed OpenReview profile whose current profile (``current_profile``) has records of
    # its own joins that profile's person when the two names share the given name or the
    # surname (``identifiers.renamed_uses``; the clusters stay apart, each matched by its own
    # name). 0 turns it off.
    "renamed_profiles": 1.0,
    # A free entity whose first-last name is exactly that of one identified person, and of
    # no other, joins that person from this probability on (name-only evidence scores low
    # under the global prior, yet on the development split such a link was the person's in
    # about 4 of 5 cases). 1 turns the rule off. Not 0.01: on the full mirror 264 links of one
    # comparison vector (a rare name at another institution, same country) sat 2e-7 above 0.01,
    # and any retraining moved them in or out; the nearest classes are 2% or more from 0.0097.
    "unique_name_threshold": 0.0097,
    # ... and only when the person was seen on two papers or more, or at the same venue
    # (1: required, 0: the name alone suffices).
    "unique_name_support": 1.0,
    # The rule applies to names held by at most this many identified people (the best of
    # them, the runner-up margin still applying; 2 from the time split's development year,
    # where names of two holders were most of the known people left alone).
    "unique_name_holders": 2.0,
    # ... and, for a record at another institution than the person's, to names whose given
    # and family names predict at most this many identified holders (``name_parts``: one
    # "Amy Zhang" here is not a rare name). 0 turns it off.
    "unique_name_parts_holders": 0.5,
    # Score again the free entities placed with no identified person, against the persons
    # summarised together with the records and fragments placed with them in the first round
    # (``rescore.second_round``). 0 turns it off.
    "second_round": 1.0,
    # A free entity whose best candidate holds exactly its first-last name *and* shares a
    # co-author with it joins from this probability on, the runner-up margin still applying
    # (a person's new year often has a new institution, domain and country, about -5.5 bits,
    # while an old co-author stays; on the development time split ``nips2023,icml2023`` such
    # best candidates were the person for 79 of 91 hidden profiles left alone). Names held
    # by ``fragment_common_name`` people or more are left out (as for fragments). 1 turns it
    # off.
    "coauthor_name_threshold": 0.01,
    # A group of free entities (step 3) that no cluster adopted joins the one cluster every
    # member with a candidate has as its best, on the exact name and with the margin, when
    # one of them shares a co-author with it or reaches this probability (the person's
    # several new-year records, none enough alone). 1 turns it off: off by default, as the
    # Spark build's parity test ran out of Java heap with it on (not diagnosed), for a gain
    # of 6 of 24,242 held-out known people (0.1 when on).
    "group_threshold": 1.0,
    # Evidence against (``_year_conflicts``): a candidate person whose records of a year the
    # entity also has all name other countries (and other institutions) than the entity's
    # records of that year is no candidate, when the pair's probability is below this (the
    # weak rules above work below ``attach_threshold``; 0.999 spares only the near-certain
    # pairs). 0 turns it off: off by default. At 0.999 it removed few of the development
    # over-split's wrong merges (0.0516 -> 0.0489) and cost known people on the default
    # evaluation's development split (0.971 -> 0.962): a person's own record of a year,
    # resolved to another country and institution than their identified ones that year.
    "conflict_below": 0.0,
    # The unique-name rule only for a record of a year outside the years the person's ids
    # cover (before the first or after the last): within them the person's papers carry
    # the ids, and a record of those years with the name alone was mostly a namesake on the
    # development over-split. 0 turns the condition off.
    "unique_name_outside_years": 0.0,
    # The same for a group of free entities adopted through an edge to an entity attached to
    # a person (step 3): only when every member's year lies outside that person's years.
    # 0 turns the condition off.
    "adopt_outside_years": 0.0,
    # The same for the second round's new pairs (``rescore.second_round``). 0: off.
    "round2_outside_years": 0.0,
    # A person's papers at a venue-year where their ids appear carry them: the unique-name
    # rule, a group's adoption through a linked record and the second round's new pairs
    # never give a person a record of a venue-year at which the person has an identified
    # record (a namesake there). 0 turns it off.
    "venue_year_guard": 1.0,
    # A weak link whose record names another institution than the person's anchored records
    # of the same venue-year is taken back (``place_clash``). 0 turns it off.
    "place_clash_guard": 1.0,
    # The record's self-declared career stage (``career``): the unique-name rule is refused
    # to an undergraduate or master's student (1), and also to a PhD student listed first
    # (2): they had published before far less often than the average author. 0: off, the
    # default: only records with an id state a position in this corpus, and those are
    # never free entities (measured with ids hidden, the gains were the mask's artefact).
    "early_career_guard": 0.0,
    # ... and a record naming an established post (not a student or an intern) counts as the
    # rule's support, as the person seen on two papers or at the same venue does. 0: off
    # (see above).
    "established_support": 0.0,
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


def decide(
    pairs: ibis.Table,
    members: ibis.Table,
    *,
    params: dict[str, Any] | None = None,
    frags: ibis.Table | None = None,
    places: ibis.Table | None = None,
    stages: ibis.Table | None = None,
    venue_years: ibis.Table | None = None,
    name_parts: ibis.Table | None = None,
) -> ibis.Table:
    """Map every free entity that links to someone onto a person key.

    Returns ``(entity_id, person_key, rule, match_probability, cluster_evidence)`` for free
    entities that were attached to a strong cluster or grouped with other free entities.
    Intermediate results are scratch tables (:data:`SCRATCH_TABLES`; each is read several
    times): read the result before deciding again, which replaces them.
    ``stages`` (:func:`career.record_stages`) lets the records' career stages speak to the
    unique-name rule (``early_career_guard``, ``established_support``); ``name_parts``
    (:func:`name_parts.parts_holders`) how common each free entity's name is from its parts
    (``unique_name_parts_holders``).
    """
    p = {**DEFAULTS, **(params or {})}
    mw = [c for c in pairs.columns if c.startswith(_MW_PREFIX)]
    con = pairs.get_backend()
    if frags is None:
        ent_papers = members.select("entity_id", "paper_id").distinct()
    else:
        # Merged fragments are one person: their papers are the person's papers.
        m = members.left_join(frags.select("entity_id", "person_key"), "entity_id")
        ent_papers = m.select(
            entity_id=m.person_key.fill_null(m.entity_id), paper_id=m.paper_id
        ).distinct()
    ent_papers = scratch_table(con, "_identity_ent_papers", ent_papers)

    # 1. free -> strong candidates, excluding clusters that share a paper with the entity.
    sel = {"p": pairs.match_probability, "w": pairs.match_weight, **{c: pairs[c] for c in mw}}
    unique_l = unique_r = ibis.literal(False)
    rare_exact: Any = ibis.literal(False)
    shared_co: Any = (
        (pairs.mw_coauthors > 0).fill_null(False)
        if "mw_coauthors" in pairs.columns
        else ibis.literal(False)
    )
    if {"tf_name_fl_l", "tf_name_fl_r", "mw_tf_adj_name"} <= set(pairs.columns):
        # Term frequencies are the share of identified people with the name (see
        # ``model.name_frequencies``): an exact name held by at most ``unique_name_holders`` of them.
        n_people = int(members.filter(members.strong).entity_id.nunique().execute())
        exact = (
            (pairs.tf_name_fl_l == pairs.tf_name_fl_r) & (pairs.mw_tf_adj_name != 0)
        ).fill_null(False)
        most = p["unique_name_holders"]
        unique_l = exact & (pairs.tf_name_fl_r * n_people).round().between(1, most)
        unique_r = exact & (pairs.tf_name_fl_l * n_people).round().between(1, most)
        # The co-author and group rules: the exact name, held by fewer than
        # ``fragment_common_name`` people (the co-authors of a "Yang Liu" often have common
        # names too; on the development over-split such links were mostly another human).
        rare_exact = exact & ((pairs.tf_name_fl_l * n_people).round() < p["fragment_common_name"])
    both = {"rare_exact": rare_exact, "co": shared_co}
    lf = pairs.filter(~pairs.is_cluster_l & pairs.is_cluster_r).select(
        free=pairs.entity_id_l, cluster=pairs.entity_id_r, uniq_name=unique_l, **both, **sel
    )
    rf = pairs.filter(pairs.is_cluster_l & ~pairs.is_cluster_r).select(
        free=pairs.entity_id_r, cluster=pairs.entity_id_l, uniq_name=unique_r, **both, **sel
    )
    rc = lf.union(rf, distinct=False)
    if frags is not None:
        # Candidates are persons: fragments of one human are one candidate (its best pair),
        # not each other's runner-up.
        rc = rc.left_join(frags.select(cluster=frags.entity_id, canon=frags.person_key), "cluster")
        rc = rc.mutate(cluster=rc.canon.fill_null(rc.cluster), frag=rc.cluster)
        rc = rc.drop("canon", "cluster_right")
        # Ties between two fragments' pairs break on the fragment's id, not on row order.
        wc = ibis.window(group_by=["free", "cluster"], order_by=[ibis.desc("w"), "frag"])
        rc = rc.mutate(rc_=ibis.row_number().over(wc))
        rc = rc.filter(rc.rc_ == 0).drop("rc_", "frag")
    rc = not_sharing_a_paper(rc, "free", "cluster", ent_papers)
    if places is not None and p["conflict_below"] > 0:
        ent_places = _entity_places(places, members, frags)
        rc = _without_year_conflicts(rc, ent_places, p["conflict_below"])
    win = ibis.window(group_by="free", order_by=[ibis.desc("w"), "cluster"])
    ranked = rc.mutate(rk=ibis.row_number().over(win), w2=rc.w.lead().over(win))
    if p["group_threshold"] < 1:
        # Read again by the group rule (step 3): ranked once.
        ranked = scratch_table(con, "_identity_ranked", ranked)
    best = ranked.filter(ranked.rk == 0)
    vy_guard = places is not None and "venue" in places.columns and p["venue_year_guard"] > 0
    if vy_guard:
        # Read twice by the venue-year guard (the clashes' keys, and joined to them).
        best = scratch_table(con, "_identity_best", best)
    support: Any = ibis.literal(True)
    if p["unique_name_support"] > 0:
        # Name alone, but not only the name: the person was seen on at least two papers, or
        # at the same venue (on the development split a person seen once, at another venue,
        # was someone else in 2 of 7 such links; otherwise 1 in 6).
        n_papers = ent_papers.group_by("entity_id").aggregate(n_papers=ibis._.count())
        best = best.left_join(n_papers, best.cluster == n_papers.entity_id).drop("entity_id")
        support = best.n_papers.fill_null(0) >= 2
        if "mw_venues" in best.columns:
            support = support | (best.mw_venues > 0)
    if stages is not None and (p["early_career_guard"] > 0 or p["established_support"] > 0):
        # The record's self-declared career stage (``career``): evidence for or against.
        per_entity = career.entity_stages(stages, members, p["early_career_guard"])
        paired = career.paired_records(pairs, p["pair_threshold"])
        best, support = career.unique_name_support(best, support, per_entity, p, paired)
    if name_parts is not None and p["unique_name_parts_holders"] > 0:
        best, common = name_parts_mod.common_by_parts(
            best, name_parts, p["unique_name_parts_holders"]
        )
        support = support & ~common
    if places is not None and p["unique_name_outside_years"] > 0:
        spans = entity_years(places, members, frags)
        fs = spans.select(free=spans.entity_id, f_min=spans.y_min, f_max=spans.y_max)
        cs = spans.select(cluster=spans.entity_id, c_min=spans.y_min, c_max=spans.y_max)
        best = best.left_join(fs, "free").drop("free_right")
        best = best.left_join(cs, "cluster").drop("cluster_right")
        outside = ((best.f_min > best.c_max) | (best.f_max < best.c_min)).fill_null(True)
        support = support & outside
    vy = None
    if vy_guard:
        # Read by both guards below: materialised once.
        if venue_years is None:
            venue_years = entity_venue_years(places, members, None)
        vy = _canonical_venue_years(venue_years, frags)
        vy = scratch_table(con, "_identity_venue_years", vy)
        clash = venue_year_clashes(
            best.select("free", "cluster"), "free", "cluster", vy, scratch="_identity_vy_best"
        )
        best = best.left_join(clash.mutate(vy_clash=True), ["free", "cluster"])
        best = best.drop("free_right", "cluster_right")
        support = support & best.vy_clash.isnull()
    by_name = (
        best.uniq_name
        & (best.p >= p["unique_name_threshold"])
        & (best.p < p["attach_threshold"])
        & support
    )
    # The exact name and an old co-author, whatever the new year's places say.
    by_coauthor = (
        best.rare_exact
        & best.co
        & (best.p >= p["coauthor_name_threshold"])
        & (best.p < p["attach_threshold"])
        & ~by_name
    )
    leads = best.w2.isnull() | (best.w - best.w2 >= p["margin"]) | (best.p >= p["sure_threshold"])
    attached = best.filter(
        ((best.p >= p["attach_threshold"]) | by_name | by_coauthor) & leads
    ).select(
        entity_id=best.free,
        person_key=best.cluster,
        rule=ibis.literal("splink"),
        match_probability=best.p,
        cluster_evidence=ibis.cases(
            (by_name, evidence.UNIQUE_NAME), (by_coauthor, evidence.SHARED_COAUTHOR), else_=""
        )
        + evidence_expr(best),
    )
    attached = scratch_table(con, "_identity_attached", attached)

    # 3. free <-> free edges at the pair threshold, never two entities on one paper.
    rr = pairs.filter(
        ~pairs.is_cluster_l & ~pairs.is_cluster_r & (pairs.match_probability >= p["pair_threshold"])
    ).select(a=pairs.entity_id_l, b=pairs.entity_id_r, p=pairs.match_probability)
    rr = scratch_table(con, "_identity_free_edges", not_sharing_a_paper(rr, "a", "b", ent_papers))
    free_edges = rr.anti_join(attached.select(a=attached.entity_id), "a").anti_join(
        attached.select(b=attached.entity_id), "b"
    )
    # A backend table, not a memtable: Ibis's PySpark backend cannot cache expressions that
    # read a memtable (the memtable is never registered in the Spark session).
    groups = con.create_table(
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
    adopt = votes.filter(votes.n_clusters == 1).select(
        "grp", "cluster", "p", how=ibis.literal("edge")
    )
    if places is not None and p["adopt_outside_years"] > 0:
        adopt = _outside_years(adopt, groups, entity_years(places, members, frags))
    adopt = scratch_table(con, "_identity_adopt", adopt)
    if vy is not None:
        in_group = groups.select(grp=groups.component, free=groups.node)
        alone = adopt.select("grp", free=adopt.grp)
        keys = in_group.union(alone).join(adopt.select("grp", "cluster"), "grp")
        keys = scratch_table(con, "_identity_adopt_keys", keys)
        clash = venue_year_clashes(
            keys.select("free", "cluster"), "free", "cluster", vy, scratch="_identity_vy_adopt"
        )
        bad = keys.join(clash, ["free", "cluster"]).select("grp").distinct()
        adopt = scratch_table(con, "_identity_adopt_guarded", adopt.anti_join(bad, "grp"))
    if p["group_threshold"] < 1:
        group = _group_candidates(ranked, groups, adopt, ent_papers, p)
        adopt = scratch_table(con, "_identity_adopt_grouped", adopt.union(group, distinct=False))

    grouped = groups.select(entity_id=groups.node, grp=groups.component)
    grouped = grouped.left_join(adopt, "grp").drop("grp_right")
    via = grouped.select(
        "entity_id",
        person_key=grouped.cluster.fill_null(grouped.grp),
        rule=ibis.literal("splink"),
        match_probability=grouped.p,
        cluster_evidence=ibis.cases(
            (grouped.how == "group", evidence.GROUP),
            (grouped.cluster.notnull(), evidence.ADOPTED),
            else_="grouped with unidentified authorships",
        ),
    )
    # Ungrouped free entities adopted through a direct edge to an attached entity.
    lone = adopt.filter(adopt.how == "edge").anti_join(groups.select(grp=groups.node), "grp")
    lone = lone.select(
        entity_id=lone.grp,
        person_key=lone.cluster,
        rule=ibis.literal("splink"),
        match_probability=lone.p,
        cluster_evidence=ibis.literal(evidence.ADOPTED),
    )
    return attached.union(via).union(lone)


def _entity_places(places: ibis.Table, members: ibis.Table, frags: ibis.Table | None) -> ibis.Table:
    """``(entity_id, year, country, institution)``, distinct, of the authorships with a
    country; merged fragments under their person's key."""
    m = _canonical_members(members, frags)
    pl = places.filter(places.country.notnull() & places.year.notnull())
    out = m.join(pl, "authorship_id")
    out = out.select("entity_id", "year", "country", "institution").distinct()
    return scratch_table(places.get_backend(), "_identity_places", out)


def _under_person_keys(t: ibis.Table, frags: ibis.Table | None) -> ibis.Table:
    """``t`` with merged fragments' ``entity_id`` replaced by their person's key."""
    if frags is None:
        return t
    j = t.left_join(frags.select("entity_id", canon=frags.person_key), "entity_id")
    return j.select(
        *[j.canon.fill_null(j.entity_id).name(c) if c == "entity_id" else j[c] for c in t.columns]
    )


def _canonical_members(members: ibis.Table, frags: ibis.Table | None) -> ibis.Table:
    """``(entity_id, authorship_id)`` with merged fragments under their person's key."""
    return _under_person_keys(members.select("entity_id", "authorship_id"), frags)


def entity_venue_years(
    places: ibis.Table, members: ibis.Table, frags: ibis.Table | None
) -> ibis.Table:
    """``(entity_id, venue, year)``, distinct, of every entity (merged fragments under their
    person's key)."""
    m = _canonical_members(members, frags)
    out = m.join(places.select("authorship_id", "venue", "year"), "authorship_id")
    return out.select("entity_id", "venue", "year").distinct()


def _canonical_venue_years(venue_years: ibis.Table, frags: ibis.Table | None) -> ibis.Table:
    """:func:`entity_venue_years` from the same without fragments (``venue_years``, made once
    for both decision passes): merged fragments under their person's key."""
    if frags is None:
        return venue_years
    return _under_person_keys(venue_years, frags).distinct()


def venue_year_clashes(
    keys: ibis.Table, free: str, person: str, vy: ibis.Table, *, scratch: str
) -> ibis.Table:
    """The ``(free, person)`` rows of ``keys`` whose two sides have a record at one
    venue-year: the person's records there carry ids, the free entity's do not.
    ``scratch`` names the intermediate table of the keys with their free side's venue-years."""
    k = keys.select(free, person).distinct()
    fv = vy.select(**{free: vy.entity_id, "venue": vy.venue, "year": vy.year})
    pv = vy.select(**{person: vy.entity_id, "venue": vy.venue, "year": vy.year})
    # Each key with its free side's venue-years first, materialised: left to itself the
    # planner may join the two venue-year lists on (venue, year) first, pairing every entity
    # of a venue-year with every other (thousands squared), which made the guard 20x slower
    # than the decisions it guards.
    kf = scratch_table(keys.get_backend(), scratch, k.join(fv, free))
    hit = kf.join(pv, [person, "venue", "year"])
    return hit.select(free, person).distinct()


def entity_years(places: ibis.Table, members: ibis.Table, frags: ibis.Table | None) -> ibis.Table:
    """``(entity_id, y_min, y_max)``: the years of each entity's authorships (merged
    fragments under their person's key)."""
    m = _canonical_members(members, frags)
    out = m.join(places.select("authorship_id", "year"), "authorship_id")
    return out.group_by("entity_id").aggregate(y_min=out.year.min(), y_max=out.year.max())


def _outside_years(adopt: ibis.Table, groups: ibis.Table, spans: ibis.Table) -> ibis.Table:
    """``adopt`` (``grp``, ``cluster``, ...) without the groups that have a member of a year
    within the adopting person's years (a group is keyed by a member: a lone entity by
    itself)."""
    grouped = groups.join(spans, groups.node == spans.entity_id).select(
        grp=groups.component, y_min=spans.y_min, y_max=spans.y_max
    )
    alone = spans.select(grp=spans.entity_id, y_min=spans.y_min, y_max=spans.y_max)
    gy = grouped.union(alone, distinct=False)
    g = gy.group_by("grp").aggregate(g_min=gy.y_min.min(), g_max=gy.y_max.max())
    cs = spans.select(cluster=spans.entity_id, c_min=spans.y_min, c_max=spans.y_max)
    out = adopt.left_join(g, "grp").drop("grp_right").left_join(cs, "cluster")
    outside = ((out.g_min > out.c_max) | (out.g_max < out.c_min)).fill_null(True)
    return out.filter(outside).select(*adopt.columns)


def _without_year_conflicts(rc: ibis.Table, ent_places: ibis.Table, below: float) -> ibis.Table:
    """``rc`` (free, cluster candidates with ``p``) without the pairs below ``below`` whose two
    sides have records of one year in different countries, with no country and no
    institution of that year in common: one human does not publish from two countries in
    one year without a joint affiliation (a namesake does). Looked up for the weak pairs only,
    per (pair, year)."""
    weak = rc.filter(rc.p < below).select("free", "cluster").distinct()
    fp = ent_places.select(
        free=ent_places.entity_id,
        year=ent_places.year,
        cf=ent_places.country,
        if_=ent_places.institution,
    )
    cp = ent_places.select(
        cluster=ent_places.entity_id,
        year=ent_places.year,
        cc=ent_places.country,
        ic=ent_places.institution,
    )
    a = weak.join(fp, "free")
    b = a.join(cp, ["cluster", "year"])
    same = (b.cf == b.cc) | (b.if_ == b.ic).fill_null(False)
    per_year = b.group_by(["free", "cluster", "year"]).aggregate(agree=same.max())
    clash = per_year.filter(~per_year.agree).select("free", "cluster").distinct()
    flagged = clash.mutate(conflict=ibis.literal(True))
    out = rc.left_join(flagged, ["free", "cluster"]).drop("free_right", "cluster_right")
    return out.filter(out.conflict.isnull() | (out.p >= below)).drop("conflict")


def _group_candidates(
    ranked: ibis.Table,
    groups: ibis.Table,
    adopted: ibis.Table,
    ent_papers: ibis.Table,
    p: dict[str, Any],
) -> ibis.Table:
    """``(grp, cluster, p, how)`` of the groups of free entities no cluster adopted whose
    members all point to one cluster: every member with a candidate has it as its best, on
    the exact first-last name (held by fewer than ``fragment_common_name`` people) and
    ``margin`` ahead of its runner-up, and one of them shares
    a co-author with it or reaches ``group_threshold``; no member shares a paper with it.

    A person's new year is often several records (two venues, several papers), each too
    weak alone (a new institution) yet grouped by their shared new co-authors: the group is
    judged as one person."""
    best = ranked.filter(ranked.rk == 0)
    lead = best.w2.isnull() | (best.w - best.w2 >= p["margin"]) | (best.p >= p["sure_threshold"])
    open_ = groups.anti_join(adopted.select(component=adopted.grp), "component")
    m = open_.join(best, open_.node == best.free)
    votes = m.group_by(grp=m.component).aggregate(
        n_clusters=m.cluster.nunique(),
        cluster=m.cluster.min(),
        p=m.p.max(),
        ok=(m.rare_exact & lead).min(),
        strong=(m.co | (m.p >= p["group_threshold"])).max(),
    )
    cand = votes.filter((votes.n_clusters == 1) & votes.ok & votes.strong)
    # No member (with or without a candidate) may share a paper with the cluster.
    members = groups.join(cand, groups.component == cand.grp).select(
        free=groups.node, cluster=cand.cluster, grp=cand.grp
    )
    fine = not_sharing_a_paper(members, "free", "cluster", ent_papers)
    clash = members.anti_join(fine, ["free", "cluster"]).select("grp").distinct()
    cand = cand.anti_join(clash, "grp")
    return cand.select("grp", "cluster", "p", how=ibis.literal("group"))


def with_renames(frags: ibis.Table | None, renames: ibis.Table) -> ibis.Table:
    """Id fragments and renamed profiles (``identifiers.rename_links``) as one table: a
    fragment that joined a renamed profile joins the person that profile is under."""
    if frags is None:
        return renames
    r = renames.select(person_key=renames.entity_id, root=renames.person_key)
    f = frags.left_join(r, "person_key")
    f = f.select(
        "entity_id", person_key=f.root.fill_null(f.person_key), cluster_evidence=f.cluster_evidence
    )
    return f.union(renames.anti_join(f, "entity_id").select(*f.columns))


def assign(
    features: ibis.Table,
    clusters: ibis.Table,
    pairs: ibis.Table | None,
    *,
    params: dict[str, Any] | None = None,
    entities: ibis.Table | None = None,
    members: ibis.Table | None = None,
    profiles: ibis.Table | None = None,
    stages: ibis.Table | None = None,
    venue_years: ibis.Table | None = None,
    name_parts: ibis.Table | None = None,
    renames: ibis.Table | None = None,
) -> ibis.Table:
    """Every authorship's person key and the rule that put it there (see module docstring).

    ``clusters`` is ``(authorship_id, cluster_key, strong)``; ``entities``, when given, is
    the entity table built from the same features and clusters (reused by :func:`fragments`);
    ``members``, when given, is :func:`members_table` of them, materialised (the linkage
    decides twice on the same members); ``profiles`` is passed on to :func:`fragments`;
    ``stages``, when given, the records' career stages (:func:`career.record_stages`);
    ``venue_years``, when given, :func:`entity_venue_years` of these features and members
    without fragments, materialised (read by the venue-year guard of both passes);
    ``name_parts``, when given, :func:`name_parts.parts_holders` of the linkage's entity keys;
    ``renames``, when given, ``identifiers.rename_links``: renamed profiles' clusters joined
    to their current profile's person like id fragments (each cluster keeps its own name
    for the records it is compared with).
    """
    if members is None:
        # Materialised: read four times below (papers per entity twice, people, the final join).
        members = scratch_table(
            features.get_backend(), "_identity_decide_members", members_table(features, clusters)
        )
    schema = ibis.schema(
        {
            "entity_id": "string",
            "person_key": "string",
            "rule": "string",
            "match_probability": "float64",
            "cluster_evidence": "string",
        }
    )
    p = {**DEFAULTS, **(params or {})}
    frags = None
    if "profile" in features.columns and p["fragment_coauthors"] > 0:
        ent_papers = members.select("entity_id", "paper_id").distinct()
        frags = fragments(
            features,
            clusters,
            ent_papers,
            min_coauthors=int(p["fragment_coauthors"]),
            common_name=int(p["fragment_common_name"]),
            entities=entities,
            scored=pairs,
            min_bridges=int(p["fragment_bridges"]),
            bridge_p=float(p["fragment_bridge_probability"]),
            profiles=profiles,
            bare_profiles=p["bare_profile_fragments"] > 0,
        )
    if renames is not None:
        frags = with_renames(frags, renames)
    if frags is not None:
        frags = scratch_table(features.get_backend(), "_identity_decide_fragments", frags)
    if pairs is None:
        linked = ibis.memtable({k: [] for k in schema.names}, schema=schema)
    else:
        places = None
        if {"year", "country", "institution"} <= set(features.columns):
            extra = ["venue"] if "venue" in features.columns else []
            places = features.select("authorship_id", "year", "country", "institution", *extra)
        linked = decide(
            pairs,
            members,
            params=params,
            frags=frags,
            places=places,
            stages=stages,
            venue_years=venue_years,
            name_parts=name_parts,
        ).cast(schema)
    if frags is not None:
        merged = frags.select(
            "entity_id",
            "person_key",
            rule=ibis.literal("identifier"),
            match_probability=ibis.null("float64"),
            cluster_evidence=frags.cluster_evidence,
        ).cast(schema)
        linked = linked.union(merged)
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
        # Strong clusters carry evidence only when merged as an id fragment.
        cluster_evidence=m.cluster_evidence,
    )
