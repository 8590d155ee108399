"""The linkage pipeline: identifiers, features, splink scores, decisions.

:func:`link` is engine-neutral (Ibis throughout; splink on the same connection) and is what
both the stage and the evaluation call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import ibis

from talentflow.identity import (
    career,
    decide,
    evidence,
    features,
    identifiers,
    model,
    place_clash,
    rescore,
)
from talentflow.identity.name_parts import parts_holders
from talentflow.identity.scratch import scratch_table

_PREFIX = "_identity_"


@dataclass
class LinkResult:
    """Assignments (a table on the connection) and what produced them."""

    assignments: ibis.Table
    params: dict[str, Any]
    model: dict[str, Any] | None
    stats: dict[str, Any] = field(default_factory=dict)
    temp_tables: list[str] = field(default_factory=list)

    def drop(self, con: Any) -> None:
        """Remove the intermediate tables (call after the assignments were copied)."""
        for name in self.temp_tables:
            con.drop_table(name, force=True)


class _Clock:
    """Wall and CPU seconds per phase (in the build's stats, printed by the benchmark).

    CPU seconds are the process's (every engine thread in it), the steadier figure on a
    shared machine.
    """

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.c = time.process_time()
        self.laps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(
        self, name: str, wall: dict[str, float] | None = None, cpu: dict[str, float] | None = None
    ) -> None:
        """End phase ``name``; ``wall``/``cpu``: its sub-phases, counted apart from it."""
        now, c = time.perf_counter(), time.process_time()
        self.laps.update(wall or {})
        self.cpu.update(cpu or {})
        # Sub-phases are timed apart: the rest can come out a hair below zero (printed -0.0).
        self.laps[name] = max(0.0, round(now - self.t - sum((wall or {}).values()), 2))
        self.cpu[name] = max(0.0, round(c - self.c - sum((cpu or {}).values()), 2))
        self.t, self.c = now, c


def _materialise(con: Any, name: str, expr: ibis.Table, temps: list[str]) -> ibis.Table:
    full = _PREFIX + name
    # The decisions replace their own scratch tables on each pass: a linkage table of the
    # same name would be replaced while still read.
    if full in decide.SCRATCH_TABLES:
        raise ValueError(f"{full} is one of the decisions' scratch tables")
    table = scratch_table(con, full, expr)
    temps.append(full)
    return table


def _drop_decision_tables(con: Any) -> None:
    """Drop the decisions' intermediates once their assignments are materialised: the next
    pass makes them again, and until the stage ends they would hold memory (DuckDB keeps
    temporary tables in memory up to its limit)."""
    present = set(con.list_tables())
    for name in decide.SCRATCH_TABLES:
        if name in present:
            con.drop_table(name, force=True)


def _entity_keys(
    unclustered: ibis.Table, clusters: ibis.Table, cluster_names: ibis.Table
) -> ibis.Table:
    """Every entity's id, strength, profile (and its number) and name keys (see
    :func:`model.comparable`): one per authorship without an identifier (``unclustered``
    features), one per cluster."""
    columns = ("name_fl", "name_fl_swapped", "bk_init", "first", "last")
    free = unclustered.select(
        *columns,
        entity_id=unclustered.authorship_id,
        is_cluster=ibis.literal(False),
        profile=ibis.literal(False),
        profile_number=ibis.null("int64"),
    )
    key = features.group_key(clusters)
    each = clusters.group_by(key).aggregate(
        entity_id=clusters.cluster_key.min(), is_cluster=clusters.strong.max()
    )
    named = each.left_join(cluster_names.select(key, "profile", "profile_number", *columns), key)
    cluster_keys = named.select(
        *columns,
        "entity_id",
        "is_cluster",
        profile=named.profile.fill_null(False),
        profile_number=named.profile_number,
    )
    return free.union(cluster_keys)


def link(
    con: Any,
    authorships: ibis.Table,
    papers: ibis.Table | None = None,
    *,
    params: dict[str, Any] | None = None,
    trained_model: dict[str, Any] | None = None,
) -> LinkResult:
    """Link authorships into persons.

    Parameters
    ----------
    con
        Ibis backend holding the inputs; intermediate tables are written to it.
    authorships
        Authorships with at least ``authorship_id, paper_id, venue, year, author_name`` and
        whichever of the id, affiliation, domain and country columns exist.
    papers
        Papers (``paper_id``, ``title``) for topic words; optional.
    params
        Overrides of ``model.DEFAULTS`` and ``decide.DEFAULTS`` (plus ``max_coauthors``).
    trained_model
        A splink model (as returned in ``LinkResult.model``) to reuse instead of training.

    Returns
    -------
    LinkResult
        ``assignments``: ``authorship_id, person_key, rule, match_probability,
        cluster_evidence``; ``person_key`` is the cluster's smallest id, or for people
        without ids the smallest authorship id of the group.
    """
    p = {"max_coauthors": 50, **model.DEFAULTS, **decide.DEFAULTS, **(params or {})}
    temps: list[str] = []
    clock = _Clock()
    names = _materialise(con, "names", features.name_table(con, authorships), temps)
    # Without the co-author and topic lists: those are added below, only to the authorships
    # that are compared.
    feats = _materialise(
        con,
        "features",
        features.authorship_features(
            authorships, names, papers, max_coauthors=int(p["max_coauthors"]), lists=False
        ),
        temps,
    )
    clock.lap("features")
    # Every id use checked once: the trusted ones make the clusters, the renamed ones the
    # rename links below.
    checked = _materialise(
        con,
        "checked_ids",
        identifiers.checked_uses(identifiers.authorship_ids(authorships), feats),
        temps,
    )
    ids = _materialise(con, "ids", identifiers.kept(checked), temps)
    # A cluster is strong when it carries a profile id, weak when only hashed e-mails.
    clusters = _materialise(
        con,
        "clusters",
        identifiers.identifier_clusters(con, authorships, ids=ids, strength=True),
        temps,
    )
    renames = None
    if p["renamed_profiles"] > 0:
        renamed = identifiers.renamed_uses(checked)
        renames = _materialise(
            con, "renames", identifiers.rename_links(renamed, ids, clusters), temps
        )
    clock.lap("identifiers")
    # Every entity's name keys (cheap); the costly lists only for the strong clusters that can
    # meet another entity in a block, be drawn for u, or be an id fragment (model.comparable).
    cluster_names = _materialise(
        con, "cluster_names", features.cluster_names(feats, clusters), temps
    )
    unclustered = feats.anti_join(clusters, "authorship_id")
    keys = _materialise(
        con, "entity_keys", _entity_keys(unclustered, clusters, cluster_names), temps
    )
    n_entities = int(keys.count().execute())
    n_records = int(keys.filter(~keys.is_cluster).count().execute())
    needed = _materialise(con, "comparable", model.comparable(keys, p), temps)
    summarised = ~clusters.strong | clusters.cluster_key.isin(needed.entity_id)
    compared, left_out = clusters.filter(summarised), clusters.filter(~summarised)
    clock.lap("select")
    listed = _materialise(
        con,
        "listed",
        features.with_lists(
            feats.anti_join(left_out, "authorship_id"),
            feats,
            papers,
            max_coauthors=int(p["max_coauthors"]),
        ),
        temps,
    )
    clock.lap("lists")
    records = features.record_entities(listed.anti_join(clusters, "authorship_id"))
    # The cluster aggregates are materialised one by one (less peak memory than one query
    # holding all their hash tables), and dropped once the entity table is written.
    stashed: list[str] = []
    per_cluster = features.cluster_entities(
        listed,
        compared,
        stash=lambda name, expr: _materialise(con, name, expr, stashed),
        names=cluster_names,
    )
    entities = _materialise(con, "entities", records.union(per_cluster), temps)
    for name in stashed:
        con.drop_table(name, force=True)
    n_clusters = n_entities - n_records
    stats: dict[str, Any] = {
        "entities": n_entities,
        "free_entities": n_records,
        "strong_clusters": n_clusters,
        "summarised_clusters": int(entities.filter(entities.is_cluster).count().execute()),
    }
    clock.lap("entities")

    pairs = None
    trained = None
    if n_records > 0 and n_entities > 1:
        scored = model.score(
            con,
            _PREFIX + "entities",
            n_entities=n_entities,
            n_records=n_records,
            params=p,
            model=trained_model,
            names_table=_PREFIX + "entity_keys",
        )
        # The scores table itself, not a copy: dropped with the other intermediates.
        pairs = con.table(scored.pairs_table)
        temps.append(scored.pairs_table)
        scored.cleanup(keep_scores=True)
        trained = scored.model
        stats["scored_pairs"] = scored.n_pairs
        # splink's own phases (u sampling, EM, scoring), and the rest as "splink_other"
        clock.lap("splink_other", scored.seconds, scored.cpu_seconds)
    stages = None
    if p["early_career_guard"] > 0 or p["established_support"] > 0:
        found = career.record_stages(authorships)
        stages = None if found is None else _materialise(con, "stages", found, temps)
    # Every authorship's entity: read by both rounds' decisions and by the second round.
    members = _materialise(con, "members", decide.members_table(feats, clusters), temps)
    venue_years = None
    if p["venue_year_guard"] > 0 and "venue" in feats.columns:
        # The guard's venue-years per entity: one pass over the authorships for both rounds.
        places = feats.select("authorship_id", "venue", "year")
        venue_years = _materialise(
            con, "entity_venue_years", decide.entity_venue_years(places, members, None), temps
        )
    name_parts = None
    if p["unique_name_parts_holders"] > 0:
        # How common each free record's name is from its parts (the unique-name rule).
        name_parts = _materialise(con, "name_parts", parts_holders(keys), temps)
    shared = {
        "renames": renames,
        "name_parts": name_parts,
        "venue_years": venue_years,
        "members": members,
        "profiles": cluster_names.select("cluster_key", "profile"),
        "stages": stages,
    }
    assignments = _materialise(
        con,
        "assignments",
        decide.assign(feats, clusters, pairs, params=p, entities=entities, **shared),
        temps,
    )
    _drop_decision_tables(con)
    clock.lap("decide")
    if pairs is not None and trained is not None and p["second_round"] > 0:
        again = rescore.second_round(
            con,
            assignments=assignments,
            pairs=pairs,
            entities=entities,
            listed=listed,
            clusters=clusters,
            cluster_names=cluster_names,
            members=members,
            trained=trained,
            names_table=_PREFIX + "entity_keys",
            params=p,
            temps=temps,
        )
        if again is not None:
            pairs2, round2 = again
            stats.update(round2)
            if pairs2 is not None:
                first = assignments
                second = decide.assign(
                    feats, clusters, pairs2, params=p, entities=entities, **shared
                )
                assignments = _materialise(
                    con, "assignments_round2", rescore.mark_second_round(second, first), temps
                )
                _drop_decision_tables(con)
        clock.lap("second_round")
    places = place_clash.places_of(authorships, feats)
    if pairs is not None and places is not None and p["place_clash_guard"] > 0:
        assignments = _materialise(
            con,
            "assignments_checked",
            place_clash.refuse_place_clashes(
                assignments, places, members, attach_threshold=float(p["attach_threshold"])
            ),
            temps,
        )
        stats["place_clashes"] = int(
            assignments.filter(assignments.cluster_evidence.startswith(evidence.REFUSED))
            .count()
            .execute()
        )
        clock.lap("place_clash")
    stats["seconds"] = clock.laps
    stats["cpu_seconds"] = clock.cpu
    return LinkResult(assignments, p, trained, stats, temps)
