"""One paper from many sources: cluster raw records, pick each field's source, build the slots.

Two records are the same paper when they share an OpenReview forum id, or the same normalised
title (at least ``MIN_TITLE`` characters) and year; clusters are closed transitively by
iterating a min-label propagation in SQL until it is stable. Each field comes from the best
source that has it (``field_sources`` records which); author slots come from the best source
with authors, and the other sources fill gaps position by position when their author counts
agree (never by guessing an alignment).
"""

from __future__ import annotations

from typing import Any

from talentflow.sources import decisions
from talentflow.sources.author_lists import SPLIT_PLUS

MIN_TITLE = 12
#: Lower is preferred. Titles/abstracts: paperlists; author slots: OpenReview (ids, positions).
TEXT_RANK = "CASE source WHEN 'paperlists' THEN 0 WHEN 'openalex' THEN 1 ELSE 2 END"
SLOT_RANK = "CASE source WHEN 'openreview' THEN 0 WHEN 'paperlists' THEN 1 ELSE 2 END"
#: The decision is the venue's own: OpenReview's paper metadata first, then the paper lists.
STATUS_RANK = (
    "CASE source WHEN 'openreview_venues' THEN 0 WHEN 'paperlists' THEN 1 "
    "WHEN 'openreview' THEN 2 ELSE 3 END"
)
FILLED = (
    "raw_affiliation",
    "email_domain",
    "career_position",
    "source_person_id",
    "orcid",
    "dblp",
    "scholar",
    "linkedin",
    "current_profile",
)


def cluster(db: Any) -> int:
    """Write temp table ``_clusters(rid, grp)``; return the number of propagation rounds.

    ``rid`` is the row's position in ``raw_papers`` order of ``rec_key`` (integers make the
    window passes cheap); ``grp`` the smallest ``rid`` of the paper.
    """
    db.execute(f"""
    CREATE OR REPLACE TEMP TABLE _keys AS
    SELECT rec_key, (row_number() OVER (ORDER BY rec_key))::BIGINT AS rid, openreview_id,
      CASE WHEN length(norm_title) >= {MIN_TITLE} THEN norm_title || '#' || year END AS tkey
    FROM raw_papers""")
    db.execute("""
    CREATE OR REPLACE TEMP TABLE _clusters AS
    SELECT rid, rid AS grp,
      CASE WHEN openreview_id IS NULL THEN -rid ELSE dense_rank() OVER (ORDER BY openreview_id) END AS k1,
      CASE WHEN tkey IS NULL THEN -rid ELSE dense_rank() OVER (ORDER BY tkey) END AS k2
    FROM _keys""")
    rounds = 0
    while True:
        rounds += 1
        db.execute("""
        CREATE OR REPLACE TEMP TABLE _next AS
        SELECT rid, k1, k2, grp AS old,
          least(min(grp) OVER (PARTITION BY k1), min(grp) OVER (PARTITION BY k2)) AS grp
        FROM _clusters""")
        changed = db.execute("SELECT count(*) FROM _next WHERE grp <> old").fetchone()[0]
        db.execute("CREATE OR REPLACE TEMP TABLE _clusters AS SELECT rid, grp, k1, k2 FROM _next")
        if changed == 0 or rounds >= 50:
            return rounds


def _pick(field: str, value: str | None = None) -> str:
    """The value (default: the field) from the best-ranked record that has ``field``."""
    order = "status_order" if field == "status" else "text_order"
    return f"arg_min({value or field}, {order}) FILTER (WHERE {field} IS NOT NULL)"


def merge(db: Any) -> None:
    """Build ``papers`` and ``authorships`` from the raw tables."""
    rounds = cluster(db)
    text_fields = (
        "title", "abstract", "keywords", "track", "status", "primary_area", "doi", "venue_name"
    )  # fmt: skip
    picks = ",\n".join(f"{_pick(f)} AS {f}, {_pick(f, 'source')} AS {f}_src" for f in text_fields)
    # Only keys and ranks: the wide text columns are read once, in the papers query.
    db.execute(f"""
    CREATE OR REPLACE TEMP TABLE _ranked AS
    SELECT k.rec_key, c.grp, p.n_authors,
      ({TEXT_RANK})::VARCHAR || p.rec_key AS text_order,
      ({STATUS_RANK})::VARCHAR || p.rec_key AS status_order,
      ({SLOT_RANK})::VARCHAR || p.rec_key AS slot_order
    FROM raw_papers p JOIN _keys k USING (rec_key) JOIN _clusters c USING (rid)""")
    db.execute("""CREATE OR REPLACE TEMP TABLE _sizes AS
        SELECT grp, count(*) AS records FROM _ranked GROUP BY grp""")
    # Most papers come from one record: those are projected as they are; only papers found in
    # several records go through the per-field choice (arg_min copies the wide strings).
    decisions.register(db)
    key = decisions.STATUS_KEY.format(x="u.status")
    db.execute(f"""
    CREATE OR REPLACE TABLE papers AS
    WITH single AS (
      SELECT r.grp, p.* FROM raw_papers p JOIN _ranked r USING (rec_key)
      JOIN _sizes s USING (grp) WHERE s.records = 1
    ),
    g AS (
      SELECT grp,
        min(openreview_id) AS openreview_id, min(openalex_id) AS openalex_id,
        arg_min(rec_key, text_order) AS text_key,
        arg_min(rec_key, slot_order) FILTER (WHERE n_authors > 0) AS slot_key,
        {picks},
        list_sort(list_distinct(list(source))) AS sources
      FROM raw_papers JOIN _ranked USING (rec_key, n_authors) JOIN _sizes USING (grp)
      WHERE records > 1 GROUP BY grp
    ),
    u AS (
    SELECT
      CASE WHEN openreview_id IS NOT NULL THEN 'openreview:' || openreview_id
           ELSE rec_key END AS paper_id,
      title, abstract, keywords, venue, year, track, status, primary_area, openreview_id, doi,
      openalex_id, venue_name, [source] AS sources,
      json_object('title', CASE WHEN title IS NOT NULL THEN source END,
                  'abstract', CASE WHEN abstract IS NOT NULL THEN source END,
                  'keywords', CASE WHEN keywords IS NOT NULL THEN source END,
                  'status', CASE WHEN status IS NOT NULL THEN source END,
                  'authors', CASE WHEN n_authors > 0 THEN source END)::VARCHAR AS field_sources,
      n_authors, grp, CASE WHEN n_authors > 0 THEN rec_key END AS slot_key
    FROM single
    UNION ALL
    SELECT
      CASE WHEN g.openreview_id IS NOT NULL THEN 'openreview:' || g.openreview_id
           ELSE g.text_key END AS paper_id,
      g.title, g.abstract, g.keywords,
      coalesce(rp.venue, tp.venue) AS venue, coalesce(rp.year, tp.year) AS year,
      g.track, g.status, g.primary_area, g.openreview_id, g.doi, g.openalex_id, g.venue_name,
      g.sources,
      json_object('title', g.title_src, 'abstract', g.abstract_src, 'keywords', g.keywords_src,
                  'status', g.status_src, 'authors', rp.source)::VARCHAR AS field_sources,
      coalesce(rp.n_authors, 0) AS n_authors,
      g.grp, g.slot_key
    FROM g
    LEFT JOIN raw_papers rp ON rp.rec_key = g.slot_key
    LEFT JOIN raw_papers tp ON tp.rec_key = g.text_key
    )
    SELECT u.* EXCLUDE (grp, slot_key),
      coalesce(d.decision, 'unknown') AS decision,
      CASE WHEN d.decision = 'accepted' THEN d.tier END AS tier,
      u.grp, u.slot_key
    FROM u LEFT JOIN _decisions d ON d.status = {key}
    """)
    db.unregister("_decisions")
    # Gap-filling partner: the best other record of the same paper with as many authors.
    fill = ",\n".join(f"coalesce(a.{f}, o.{f}) AS {f}" for f in FILLED)
    db.execute(f"""
    CREATE OR REPLACE TABLE authorships AS
    WITH partner AS (
      SELECT p.paper_id, arg_min(r.rec_key, r.slot_order) AS partner_key
      FROM papers p JOIN _ranked r ON r.grp = p.grp AND r.rec_key <> p.slot_key
      WHERE r.n_authors = p.n_authors
      GROUP BY p.paper_id
    ),
    o AS (
      SELECT pa.paper_id, ra.* FROM partner pa JOIN raw_authorships ra ON ra.rec_key = pa.partner_key
    )
    SELECT p.paper_id || '#' || a.author_position AS authorship_id, p.paper_id, p.venue, p.year,
      a.source, a.author_position, a.author_name,
      {fill},
      -- affiliations follow the raw string, which the partner may have filled in
      CASE WHEN a.raw_affiliation IS NULL AND o.raw_affiliation IS NOT NULL
           THEN {SPLIT_PLUS.format(x="o.raw_affiliation")} ELSE a.affiliations END AS affiliations,
      a.aligned, a.misaligned_fields,
      coalesce(a.label_institution, o.label_institution) AS label_institution,
      coalesce(a.label_country, o.label_country) AS label_country,
      a.source_institution, a.source_country, a.source_ror, a.source_file
    FROM papers p
    JOIN raw_authorships a ON a.rec_key = p.slot_key
    LEFT JOIN o ON o.paper_id = p.paper_id AND o.author_position = a.author_position
    """)
    db.execute("ALTER TABLE papers DROP COLUMN grp")
    db.execute("ALTER TABLE papers DROP COLUMN slot_key")
    for temp in ("_keys", "_clusters", "_next", "_ranked", "_sizes"):
        db.execute(f"DROP TABLE IF EXISTS {temp}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE _merge_info AS SELECT {rounds} AS rounds")
