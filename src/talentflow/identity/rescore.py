"""A second scoring round: clusters summarised with the records attached to them.

The first round compares a free entity (an unidentified authorship) with what a person's ids
say about them: the co-authors, institutions and topics of the identified authorships. A
person's new year often has a new institution and new co-authors, which the identified years
do not hold, while some of that year's records were attached in the first round all the same
(a rarer name, a shared co-author). The second round summarises each person that received
records (or id fragments) together with them, and scores again, with the *same trained
model*, the free entities the first round placed with no identified person against those
grown persons only. Nothing else is scored again: a first-round attachment is never
revisited (a record would otherwise meet a summary that holds itself), and pairs of two free
entities are kept as they were.

Everything here is engine work on distinct entities (Ibis and splink on the stage's
connection); no Python loop over rows.
"""

from __future__ import annotations

import copy
from typing import Any

import ibis

from talentflow.identity import decide, evidence, features, model
from talentflow.identity.scratch import scratch_table

#: The entity table of the second round (on the stage's connection, dropped with the rest).
ENTITIES_TABLE = "_identity_entities_round2"
_CROSS = "l.is_cluster <> r.is_cluster"


def cross_only(trained: dict[str, Any]) -> dict[str, Any]:
    """The trained model with its blocking rules limited to pairs of a cluster and a free entity."""
    out = copy.deepcopy(trained)
    rules: list[Any] = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            rules.append({**rule, "blocking_rule": f"({rule['blocking_rule']}) AND {_CROSS}"})
        else:
            rules.append(f"({rule}) AND {_CROSS}")
    out["blocking_rules_to_generate_predictions"] = rules
    return out


def grown_members(
    assignments: ibis.Table, clusters: ibis.Table, strong_ids: ibis.Table
) -> ibis.Table:
    """``(authorship_id, cluster_key, grown)`` of every authorship placed with an identified
    person in the first round, keyed by that person's cluster; ``grown`` marks the persons
    that hold an authorship outside their own identifier cluster (attached records, merged id
    fragments)."""
    placed = assignments.filter(assignments.person_key.isin(strong_ids.entity_id)).select(
        "authorship_id", cluster_key=assignments.person_key
    )
    own = clusters.select("authorship_id", own=clusters.cluster_key)
    m = placed.left_join(own, "authorship_id").drop("authorship_id_right")
    outside = m.own.isnull() | (m.own != m.cluster_key)
    grown = m.group_by("cluster_key").aggregate(grown=outside.max())
    return m.join(grown, "cluster_key").select("authorship_id", "cluster_key", "grown")


def _outside_person_years(fresh: ibis.Table, members: ibis.Table, listed: ibis.Table) -> ibis.Table:
    """The new pairs whose free entity's years all lie outside the years of the person's own
    identified records (before the first or after the last): within those years a person's
    papers carry the ids (see ``decide.DEFAULTS["unique_name_outside_years"]``)."""
    spans = decide.entity_years(listed.select("authorship_id", "year"), members, None)
    free = ibis.ifelse(fresh.is_cluster_l, fresh.entity_id_r, fresh.entity_id_l)
    person = ibis.ifelse(fresh.is_cluster_l, fresh.entity_id_l, fresh.entity_id_r)
    f = fresh.mutate(_free=free, _person=person)
    fs = spans.select(_free=spans.entity_id, f_min=spans.y_min, f_max=spans.y_max)
    cs = spans.select(_person=spans.entity_id, c_min=spans.y_min, c_max=spans.y_max)
    f = f.left_join(fs, "_free").drop("_free_right").left_join(cs, "_person")
    outside = ((f.f_min > f.c_max) | (f.f_max < f.c_min)).fill_null(True)
    return f.filter(outside).select(*fresh.columns)


def second_round(
    con: Any,
    *,
    assignments: ibis.Table,
    pairs: ibis.Table,
    entities: ibis.Table,
    listed: ibis.Table,
    clusters: ibis.Table,
    cluster_names: ibis.Table,
    members: ibis.Table,
    trained: dict[str, Any],
    names_table: str,
    params: dict[str, Any],
    temps: list[str],
) -> tuple[ibis.Table | None, dict[str, Any]] | None:
    """The first round's scored pairs with those of unplaced free entities against grown
    persons scored again (a new score replaces the old one where the two share the exact
    first-last name and a co-author), and the round's counts; ``None`` when nothing can
    change (no grown person, or no free entity left unplaced), and ``None`` pairs when no
    new score replaced an old one (the first round's pairs and decisions stand).

    ``assignments`` are the first round's (per authorship); ``members`` is
    ``(entity_id, authorship_id, paper_id)`` of every entity; ``listed`` the features with
    co-author and topic lists; ``names_table`` the entity keys the name frequencies are
    counted from (the same frequencies as the first round).
    """
    strong_ids = entities.filter(entities.is_cluster).select("entity_id")
    gm = grown_members(assignments, clusters, strong_ids)
    gm = gm.filter(gm.grown).drop("grown")
    name = "_identity_round2_members"
    gm = scratch_table(con, name, gm)
    temps.append(name)
    # Free entities none of whose authorships went to an identified person.
    placed = assignments.filter(assignments.person_key.isin(strong_ids.entity_id))
    free_members = members.filter(~members.strong)
    unplaced = (
        free_members.anti_join(placed.select("authorship_id"), "authorship_id")
        .select("entity_id")
        .distinct()
    )
    unplaced = unplaced.anti_join(
        free_members.join(placed.select("authorship_id"), "authorship_id").select("entity_id"),
        "entity_id",
    )
    name = "_identity_round2_unplaced"
    unplaced = scratch_table(con, name, unplaced)
    temps.append(name)
    # Only persons and records that can meet in a block (every blocking rule asks for the
    # same ``bk_init``, or a first-last name equal to the other's reversed one): the rest
    # would be summarised and registered for nothing.
    keys = con.table(names_table).select("entity_id", "name_fl", "name_fl_swapped", "bk_init")
    uk = keys.join(unplaced, "entity_id")
    gk = keys.join(gm.select(entity_id=gm.cluster_key).distinct(), "entity_id")
    meets_u = (
        gk.bk_init.isin(uk.bk_init)
        | gk.name_fl.isin(uk.name_fl_swapped)
        | gk.name_fl_swapped.isin(uk.name_fl)
    )
    gk = gk.filter(meets_u.fill_null(False))
    meets_g = (
        uk.bk_init.isin(gk.bk_init)
        | uk.name_fl.isin(gk.name_fl_swapped)
        | uk.name_fl_swapped.isin(gk.name_fl)
    )
    name = "_identity_round2_unplaced_meeting"
    unplaced = scratch_table(con, name, uk.filter(meets_g.fill_null(False)).select("entity_id"))
    temps.append(name)
    name = "_identity_round2_members_meeting"
    gm = scratch_table(con, name, gm.filter(gm.cluster_key.isin(gk.entity_id)))
    temps.append(name)
    n_grown = int(gm.cluster_key.nunique().execute())
    n_unplaced = int(unplaced.count().execute())
    stats = {"round2_grown_persons": n_grown, "round2_unplaced": n_unplaced}
    if n_grown == 0 or n_unplaced == 0:
        return None
    rows = listed.join(gm, "authorship_id")
    mapping = rows.select("authorship_id", "cluster_key", strong=ibis.literal(True))
    grown = features.cluster_entities(rows.drop("cluster_key"), mapping, names=cluster_names)
    free = entities.filter(~entities.is_cluster & entities.entity_id.isin(unplaced.entity_id))
    scratch_table(con, ENTITIES_TABLE, free.union(grown.select(*free.columns)))
    temps.append(ENTITIES_TABLE)
    scored = model.score(
        con,
        ENTITIES_TABLE,
        n_entities=0,
        n_records=n_unplaced,
        params=params,
        model=cross_only(trained),
        names_table=names_table,
    )
    temps.append(scored.pairs_table)
    scored.cleanup(keep_scores=True)
    fresh = con.table(scored.pairs_table)
    stats["round2_scored_pairs"] = scored.n_pairs
    # A person never receives a record that shares a paper with a record attached to it.
    grown_papers = members.select("authorship_id", "paper_id").join(gm, "authorship_id")
    grown_papers = grown_papers.select("cluster_key", "paper_id").distinct()
    free_papers = members.select("entity_id", "paper_id").distinct()

    def clash(side_free: str, side_cluster: str) -> ibis.Table:
        f = fresh.select(free=fresh[side_free], cluster=fresh[side_cluster]).distinct()
        hit = f.join(free_papers, f.free == free_papers.entity_id).join(
            grown_papers, [("cluster", "cluster_key"), ("paper_id", "paper_id")]
        )
        return hit.select(**{side_free: hit.free, side_cluster: hit.cluster}).distinct()

    lr = clash("entity_id_l", "entity_id_r")
    rl = clash("entity_id_r", "entity_id_l")
    fresh = fresh.anti_join(lr, ["entity_id_l", "entity_id_r"]).anti_join(
        rl, ["entity_id_l", "entity_id_r"]
    )
    # A new score counts only where what the person gained can speak: the same first-last
    # name and a shared co-author. On the development over-split, second-round links
    # without them (a given name a prefix of the other, or a place and topics only) were
    # nearly all another human; elsewhere the first round's score stands.
    speaks = fresh.mw_coauthors > 0 if "mw_coauthors" in fresh.columns else ibis.literal(True)
    if {"tf_name_fl_l", "tf_name_fl_r", "mw_tf_adj_name"} <= set(fresh.columns):
        speaks = speaks & (fresh.tf_name_fl_l == fresh.tf_name_fl_r) & (fresh.mw_tf_adj_name != 0)
    fresh = fresh.filter(speaks.fill_null(False))
    if params.get("round2_outside_years", 0) > 0:
        fresh = _outside_person_years(fresh, members, listed)
    if params.get("venue_year_guard", 0) > 0:
        vy = decide.entity_venue_years(
            listed.select("authorship_id", "venue", "year"), members, None
        )
        f = fresh.mutate(
            _free=ibis.ifelse(fresh.is_cluster_l, fresh.entity_id_r, fresh.entity_id_l),
            _person=ibis.ifelse(fresh.is_cluster_l, fresh.entity_id_l, fresh.entity_id_r),
        )
        clash = decide.venue_year_clashes(
            f, "_free", "_person", vy, scratch="_identity_round2_vy_keys"
        )
        temps.append("_identity_round2_vy_keys")
        fresh = f.anti_join(clash, ["_free", "_person"]).select(*fresh.columns)
    old = pairs
    schema = old.schema()
    fresh = fresh.select(*[fresh[c].cast(schema[c]) for c in old.columns])
    # Materialised: counted, then read by the anti-join and the union (each a pass over
    # the first round's pairs otherwise recomputing the whole chain above).
    name = "_identity_round2_fresh"
    fresh = scratch_table(con, name, fresh)
    temps.append(name)
    if int(fresh.count().execute()) == 0:
        # No new score: the pairs, and so the decisions, are the first round's.
        return None, stats
    kept = old.anti_join(fresh.select("entity_id_l", "entity_id_r"), ["entity_id_l", "entity_id_r"])
    # Materialised once: the decisions read the pairs many times.
    name = "_identity_pairs_round2"
    again = scratch_table(con, name, kept.union(fresh, distinct=False))
    temps.append(name)
    return again, stats


def mark_second_round(second: ibis.Table, first: ibis.Table) -> ibis.Table:
    """The second round's assignments, with ``second round;`` before the evidence of the
    authorships it placed elsewhere than the first round did (for ``link explain``)."""
    f = first.select("authorship_id", first_key=first.person_key)
    s = second.left_join(f, "authorship_id").drop("authorship_id_right")
    moved = (s.rule == "splink") & (s.first_key != s.person_key)
    return s.select(
        *[c for c in second.columns if c != "cluster_evidence"],
        cluster_evidence=ibis.ifelse(
            moved,
            ibis.literal(evidence.SECOND_ROUND) + s.cluster_evidence.fill_null(""),
            s.cluster_evidence,
        ),
    ).select(*second.columns)
