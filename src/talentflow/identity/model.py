"""The Fellegi–Sunter model (splink): comparisons, blocking rules, EM training, scoring.

Entities (identifier clusters and unidentified authorships, see ``features``) are compared
pairwise inside blocks that never pair two identifier clusters (those are distinct people by
their ids) and never leave the surname-and-initial neighbourhood, so the number of pairs grows
with the size of name blocks, not with the square of the corpus. The name comparison carries
term-frequency adjustments: agreeing on "Wei Wang" is worth far less than agreeing on a rare
name, which is what keeps common names from collapsing.

The same code runs on DuckDB (``DuckDBAPI`` on the store's own connection) and on Spark
(``SparkAPI`` on the Ibis PySpark session), and trains the same model on both: u from an
MD5-chosen sample, m and u rounded before scoring, scores rounded before decisions (see
:mod:`talentflow.identity.sampling`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import ibis
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator
from splink.internals.exceptions import EMTrainingException

# The features of linkage use strip/split, which Ibis compiles wrongly for Spark; fix first.
import talentflow.engines.pyspark_compiler  # noqa: F401
from talentflow.engines import engine_of
from talentflow.identity import sampling
from talentflow.identity.overlap_counts import array_u_counts
from talentflow.identity.scratch import scratch_table

#: Default model parameters (recorded with each build).
DEFAULTS: dict[str, Any] = {
    "u_max_pairs": 1e6,
    "seed": 42,
    "em_max_iterations": 25,
    "em_convergence": 1e-4,
    "prior_matches_per_record": 0.5,
    # Well below decide's lowest threshold (unique_name_threshold): the pairs near that
    # threshold are always scored, whatever the EM's small moves between builds.
    "predict_threshold": 0.008,
}

_NOT_TWO_CLUSTERS = "NOT (l.is_cluster AND r.is_cluster)"

#: Blocking rules for scoring: SQL on ``l.``/``r.`` columns, valid on DuckDB and Spark.
BLOCKING_RULES: tuple[str, ...] = (
    f"l.name_fl = r.name_fl AND {_NOT_TWO_CLUSTERS}",
    f"l.name_fl = r.name_fl_swapped AND {_NOT_TWO_CLUSTERS}",
    f"l.bk_init = r.bk_init AND (l.initial_only OR r.initial_only) AND {_NOT_TWO_CLUSTERS}",
    # One given name a prefix of the other (``alex``/``alexander``), not any shared 3 letters:
    # that block held twice the pairs, nearly all of them different people.
    f"l.bk_init = r.bk_init AND (substr(l.first, 1, length(r.first)) = r.first "
    f"OR substr(r.first, 1, length(l.first)) = l.first) AND {_NOT_TWO_CLUSTERS}",
)

#: Blocking rules for the EM sessions (each trains the comparisons it does not block on).
TRAINING_RULES: tuple[str, ...] = (
    f"l.name_fl = r.name_fl AND {_NOT_TWO_CLUSTERS}",
    f"l.bk_init = r.bk_init AND l.year_min = r.year_min AND {_NOT_TWO_CLUSTERS}",
)


def comparable(keys: ibis.Table, params: dict[str, Any] | None = None) -> ibis.Table:
    """``entity_id`` of the strong clusters that scoring or decisions can ever look at.

    ``keys`` holds every entity's ``entity_id, is_cluster, profile, name_fl,
    name_fl_swapped, bk_init``. Every blocking and training rule above pairs a strong
    cluster only with an entity that is not one, and asks for an equal ``bk_init``, or a
    ``name_fl`` equal to the other's ``name_fl`` or ``name_fl_swapped``: a cluster that shares
    none of these with any other entity is never in a pair, and its co-author, place and topic
    lists (the costly part of the entity table) are never read. Such a cluster is still needed
    when the u sample draws it (drawn from all entities, as if none were left out), or when its
    name is held both by a cluster with an OpenReview profile and by one without (id
    fragments, :func:`fragments.fragments`). Keep this in step with the rules.
    """
    p = {**DEFAULTS, **(params or {})}
    n_total = int(keys.count().execute())
    free = keys.filter(~keys.is_cluster)
    strong = keys.filter(keys.is_cluster)
    named = strong.filter(strong.name_fl.notnull())
    by_name = named.group_by("name_fl").aggregate(mixed=named.profile.max() & ~named.profile.min())
    fragment_names = by_name.filter(by_name.mixed)
    n_rows = sampling.rows_for_pairs(float(p["u_max_pairs"]))
    keep = (
        strong.bk_init.isin(free.bk_init)
        | strong.name_fl.isin(free.name_fl)
        | strong.name_fl.isin(free.name_fl_swapped)
        | strong.name_fl_swapped.isin(free.name_fl)
        | strong.name_fl.isin(fragment_names.name_fl)
        | sampling.hash_pick(strong.entity_id, n_rows, n_total, int(p["seed"]))
    )
    return strong.filter(keep.fill_null(False)).select("entity_id")


def name_comparison() -> Any:
    """Names: same first-last (frequency-adjusted), a shared full variant, reversed order,
    initial of the given name, given name a prefix of the other, near spelling, else.

    Starting m values are informed guesses; EM re-estimates them.
    """
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_fl"),
            cll.ExactMatchLevel("name_fl", term_frequency_adjustments=True).configure(
                label_for_charts="first-last exact", m_probability=0.85
            ),
            cll.ArrayIntersectLevel("name_variants", 1).configure(
                label_for_charts="a full-name variant shared", m_probability=0.02
            ),
            cll.CustomLevel(
                "name_fl_l = name_fl_swapped_r", label_for_charts="same name, other order"
            ).configure(m_probability=0.01),
            cll.CustomLevel(
                "last_l = last_r AND substr(first_l, 1, 1) = substr(first_r, 1, 1) "
                "AND (initial_only_l OR initial_only_r)",
                label_for_charts="initial of the given name",
            ).configure(m_probability=0.04),
            # Its own level: a prefix is a nickname in some names (alex/alexander) and a
            # different given name in others (xin/xinglong); EM weighs it.
            cll.CustomLevel(
                "last_l = last_r AND (substr(first_l, 1, length(first_r)) = first_r "
                "OR substr(first_r, 1, length(first_l)) = first_l)",
                label_for_charts="given name a prefix of the other",
                # Fixed, not trained: EM gave it 13.3 bits (exact: 13.9), yet on the
                # development split none of 23,609 such candidate pairs was the person.
            ).configure(m_probability=5e-5, fix_m_probability=True),
            # Edits, not Jaro-Winkler: DuckDB's and splink's Spark jaro_winkler disagree
            # (0.925 vs 0.918 for one pair), Levenshtein is the same on every engine.
            cll.LevenshteinLevel("name_fl", 2).configure(
                label_for_charts="near spelling (2 edits)", m_probability=0.04
            ),
            cll.ElseLevel().configure(m_probability=0.02),
        ],
    )


def array_comparison(column: str, sizes: list[int], m_values: list[float]) -> Any:
    """Overlap of two arrays at decreasing sizes, with starting m values per level."""
    levels: list[Any] = [cll.NullLevel(column)]
    for size, m in zip(sizes, m_values, strict=True):
        levels.append(cll.ArrayIntersectLevel(column, size).configure(m_probability=m))
    levels.append(cll.ElseLevel().configure(m_probability=max(1.0 - sum(m_values), 0.01)))
    return cl.CustomComparison(output_column_name=column, comparison_levels=levels)


def year_comparison() -> Any:
    """Gap in years between the two entities' spans."""
    gap = "greatest(0, greatest(year_min_l, year_min_r) - least(year_max_l, year_max_r))"
    return cl.CustomComparison(
        output_column_name="years",
        comparison_levels=[
            cll.CustomLevel("year_min_l IS NULL OR year_min_r IS NULL").configure(
                is_null_level=True
            ),
            cll.CustomLevel(f"{gap} <= 1", label_for_charts="within a year").configure(
                m_probability=0.6
            ),
            cll.CustomLevel(f"{gap} <= 4", label_for_charts="within 4 years").configure(
                m_probability=0.3
            ),
            cll.CustomLevel(f"{gap} <= 10", label_for_charts="within 10 years").configure(
                m_probability=0.08
            ),
            cll.ElseLevel().configure(m_probability=0.02),
        ],
    )


#: The array comparisons: column, overlap sizes of its levels, their starting m values (in the
#: model's order, between the name and the year comparisons, topics after the years).
ARRAY_COMPARISONS: tuple[tuple[str, list[int], list[float]], ...] = (
    ("coauthors", [2, 1], [0.25, 0.25]),
    ("institutions", [1], [0.5]),
    ("domains", [1], [0.5]),
    ("countries", [1], [0.7]),
    ("venues", [1], [0.5]),
    ("topics", [3, 1], [0.1, 0.4]),
)


def settings(prior: float) -> SettingsCreator:
    """The splink settings: dedupe over entities, with our comparisons and blocking rules."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="entity_id",
        probability_two_random_records_match=prior,
        comparisons=[
            name_comparison(),
            *[array_comparison(*spec) for spec in ARRAY_COMPARISONS[:-1]],
            year_comparison(),
            array_comparison(*ARRAY_COMPARISONS[-1]),
        ],
        blocking_rules_to_generate_predictions=list[Any](BLOCKING_RULES),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["is_cluster"],
        max_iterations=int(DEFAULTS["em_max_iterations"]),
        em_convergence=float(DEFAULTS["em_convergence"]),
    )


def name_frequencies(
    con: Any, entities_table: str, *, floor: float = 0.5, names_table: str | None = None
) -> str:
    """Term frequencies of ``name_fl`` as the share of *identified people* with the name.

    Counting entities would make a prolific author without ids (one entity per authorship)
    look like a common name; counting strong identifier clusters estimates how many people
    share it. A name's count is at least the highest OpenReview profile number seen for it
    (``~Xing_Liu5``: five OpenReview users of that name were registered, most of whom this
    corpus may not hold): a name held by one person *here* is not rare when OpenReview
    numbers it 5. Names no identified person has get ``floor`` people. Returns the table
    name.

    ``names_table``, when given, is counted instead of ``entities_table``: ``name_fl`` and
    ``is_cluster`` (and ``profile_number``, if present) of every entity (the linkage's
    entity keys), for when the entity table holds only the entities that can be compared
    (see :func:`comparable`).
    """
    e = con.table(names_table or entities_table)
    n_people = e.filter(e.is_cluster).count().execute()
    total = float(max(n_people, 1))
    number = e.profile_number if "profile_number" in e.columns else ibis.null("int64")
    by_name = (
        e.filter(e.name_fl.notnull())
        .group_by("name_fl")
        .aggregate(k=e.is_cluster.cast("int64").sum(), numbered=number.max())
    )
    holders = ibis.greatest(by_name.k, by_name.numbered.fill_null(0)).cast("float64")
    tf = by_name.select("name_fl", tf_name_fl=ibis.greatest(holders, floor) / total)
    name = entities_table + "_tf_name_fl"
    scratch_table(con, name, tf)
    return name


def db_api(con: Any) -> Any:
    """splink's database API on the same connection the stage uses."""
    return engine_of(con).splink_api()


@dataclass
class Scored:
    """Scored pairs and the trained model."""

    pairs_table: str
    model: dict[str, Any]
    n_pairs: int
    params: dict[str, Any] = field(default_factory=dict)
    cleanup: Any = None
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def score(
    con: Any,
    entities_table: str,
    *,
    n_entities: int,
    n_records: int,
    params: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    names_table: str | None = None,
) -> Scored:
    """Train (EM) and score the blocked entity pairs; the scores land in a table on ``con``.

    Parameters
    ----------
    con
        The Ibis backend holding ``entities_table``.
    entities_table
        Name of the entity table (see ``features.record_entities``/``cluster_entities``).
    n_entities, n_records
        Sizes, for the prior probability that two random entities match.
    params
        Overrides of :data:`DEFAULTS`.
    model
        A trained splink model (``Scored.model``) to reuse instead of training.
    names_table
        ``name_fl`` and ``is_cluster`` of every entity, when ``entities_table`` holds only
        the entities that can be compared (see :func:`comparable`); the name frequencies are
        counted from it, and the u sample is drawn from all ``n_entities``.
    """
    p = {**DEFAULTS, **(params or {})}
    failed: list[str] = []
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    logging.getLogger("splink").setLevel(logging.ERROR)
    api = db_api(con)
    df = api.register(entities_table)
    tf_name = name_frequencies(con, entities_table, names_table=names_table)
    apis = [api]
    train = model is None
    if model is None:
        total_pairs = max(n_entities * (n_entities - 1) / 2, 1.0)
        prior = min(max(p["prior_matches_per_record"] * max(n_records, 1) / total_pairs, 1e-9), 0.5)
        model = _with_u(con, entities_table, prior, p, apis, n_entities)
        seconds["splink_u"] = round(time.perf_counter() - t0, 2)
        cpu["splink_u"] = round(time.process_time() - c0, 2)
    linker = _linker(df, sampling.round_model(model), api, tf_name)
    if train:
        for rule in TRAINING_RULES:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True
                )
            except (ValueError, ZeroDivisionError, EMTrainingException) as exc:
                # Tiny or degenerate inputs: a level never seen in the block, or no pair at
                # all in it (a small corpus). Keep the starting values of this session's
                # comparisons and say so in the build.
                failed.append(f"{rule}: {exc}"[:200])
        # EM's float sums differ in the last digits between engines: score with the rounded
        # model, so both engines score with the same numbers.
        linker = _linker(df, sampling.round_model(linker.misc.save_model_to_json()), api, tf_name)
    t1, c1 = time.perf_counter(), time.process_time()
    seconds["splink_em"] = round(t1 - t0 - seconds.get("splink_u", 0.0), 2)
    cpu["splink_em"] = round(c1 - c0 - cpu.get("splink_u", 0.0), 2)
    pred = linker.inference.predict(threshold_match_probability=float(p["predict_threshold"]))
    trained = linker.misc.save_model_to_json()
    scores = entities_table + "_scores"
    scratch_table(con, scores, sampling.round_scores(con.table(pred.physical_name)))

    def cleanup(keep_scores: bool = False) -> None:
        for each in apis:
            each.delete_tables_created_by_splink_from_db()
        for name in (tf_name, entities_table + _U_SAMPLE):
            con.drop_table(name, force=True)
        if not keep_scores:
            con.drop_table(scores, force=True)

    n = con.table(scores).count().execute()
    seconds["splink_predict"] = round(time.perf_counter() - t1, 2)
    cpu["splink_predict"] = round(time.process_time() - c1, 2)
    return Scored(scores, trained, int(n), {**p, "em_failures": failed}, cleanup, seconds, cpu)


_U_SAMPLE = "_u_sample"


def _linker(df: Any, model: dict[str, Any], api: Any, tf_name: str) -> Any:
    """A linker with ``model`` on the entities, with our name frequencies."""
    linker = Linker(df, model, log_level=None)
    linker.table_management.register_term_frequency_lookup(api.register(tf_name), "name_fl")
    return linker


def _with_u(
    con: Any,
    entities_table: str,
    prior: float,
    p: dict[str, Any],
    apis: list,
    n_total: int,
) -> dict[str, Any]:
    """The starting model with u estimated from all pairs of a hash-chosen sample of entities.

    splink's own sampling hashes with the engine's hash function, so DuckDB and Spark would
    sample different rows; :func:`sampling.hash_sample` picks the same rows on both, and the
    sample is then used whole (all its pairs: integer counts, the same u everywhere).
    """
    n_rows = sampling.rows_for_pairs(float(p["u_max_pairs"]))
    sample = sampling.hash_sample(
        con.table(entities_table), "entity_id", n_rows, int(p["seed"]), n_total=n_total
    )
    name = entities_table + _U_SAMPLE
    scratch_table(con, name, sample)
    n = int(con.table(name).count().execute())
    # Its own API: splink caches intermediate tables per API, keyed by template names.
    api = db_api(con)
    apis.append(api)
    trainer = Linker(api.register(name), settings(prior), log_level=None)
    # One chunk: the sample is small (about 1,400 rows), and splink's default of 10 chunks
    # (plus a probe chunk) per comparison ran 88 queries, mostly overhead. The counts are
    # integers summed over chunks, so the u values are the same. The array comparisons are
    # counted from shared elements (the same counts, a fraction of the time).
    arrays = {column: (column, sizes) for column, sizes, _ in ARRAY_COMPARISONS}
    with array_u_counts(con, arrays):
        trainer.training.estimate_u_using_random_sampling(
            max_pairs=float(max(n * n, 1)), min_count_per_level=None, num_chunks=1
        )
    return trainer.misc.save_model_to_json()
