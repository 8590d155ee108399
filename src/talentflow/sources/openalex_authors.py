"""OpenAlex author records (``openalex_authors/``) -> ``author_affiliations``: institutions by year.

Files are API pages (``{"meta": ..., "results": [...]}``), JSON arrays or JSON Lines, plain or
gzip, as ``talentflow fetch openalex-authors`` writes them. Each author's ``affiliations[]``
(an institution and the ``years`` the author claimed it in their works) becomes one row per
(author, institution, year). An author record without a string ``id``, or whose
``affiliations`` is not an array, is quarantined with its position; nothing else is guessed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from talentflow.sources.records import MAX_RAW, LoadedFile, Problem, load_records

FOLDER = "openalex_authors"
SOURCE = "openalex_authors"
PATTERNS = ("*.json", "*.jsonl", "*.json.gz", "*.jsonl.gz")

DDL = """
CREATE TABLE IF NOT EXISTS author_affiliations (
  author_id VARCHAR, orcid VARCHAR, author_name VARCHAR, institution VARCHAR,
  institution_id VARCHAR, ror VARCHAR, country VARCHAR, institution_type VARCHAR,
  year INTEGER, source_file VARCHAR
)"""

_FIELDS = {
    "id": "VARCHAR",
    "orcid": "VARCHAR",
    "display_name": "VARCHAR",
    "affiliations": [
        {
            "institution": {
                "id": "VARCHAR",
                "display_name": "VARCHAR",
                "ror": "VARCHAR",
                "country_code": "VARCHAR",
                "type": "VARCHAR",
            },
            "years": ["INTEGER"],
        }
    ],
}


def files(data_dir: Path) -> list[Path]:
    """Author files under ``data_dir/openalex_authors`` (sorted; none when the folder is absent)."""
    root = data_dir / FOLDER
    if not root.is_dir():
        return []
    found = {p for pattern in PATTERNS for p in root.rglob(pattern) if p.is_file()}
    return sorted(found)


_VALIDATE = """
SELECT record_index, rel_file,
  CASE
    WHEN json_type(j) <> 'OBJECT' THEN 'record is not a JSON object (found ' || json_type(j) || ')'
    WHEN json_type(j, '$.id') IS DISTINCT FROM 'VARCHAR' THEN 'missing or non-string field "id"'
    WHEN json_type(j, '$.affiliations') NOT IN ('ARRAY', 'NULL')
      THEN 'field "affiliations" is ' || json_type(j, '$.affiliations') || ', expected an array'
  END AS problem
FROM _oa_authors_recs"""


#: Per author file: relative path, records read, records kept, problems, fatal message.
FileResult = tuple[str, int, int, list[Problem], str | None]


def ingest(db: Any, data_dir: Path) -> list[FileResult]:
    """Read every author file into ``author_affiliations``; per file (rel, read, kept, problems,
    fatal). The table is rebuilt from the files at each build (they are small)."""
    db.execute(DDL)
    db.execute(
        "CREATE OR REPLACE TEMP TABLE _oa_authors_recs "
        "(record_index BIGINT, j JSON, rel_file VARCHAR)"
    )
    loaded: dict[str, LoadedFile] = {}
    for path in files(data_dir):
        rel = path.relative_to(data_dir).as_posix()
        loaded[rel] = load_records(db, path, "_oa_authors_recs", rel, allow_wrapper="results")
    db.execute(f"CREATE OR REPLACE TEMP TABLE _oa_authors_checked AS {_VALIDATE}")
    structure = json.dumps(_FIELDS)
    db.execute(f"""
    INSERT INTO author_affiliations BY NAME
    WITH a AS (
      SELECT r.rel_file, r.record_index, json_transform(r.j, '{structure}') AS w
      FROM _oa_authors_recs r JOIN _oa_authors_checked c USING (rel_file, record_index)
      WHERE c.problem IS NULL
    ),
    aff AS (SELECT rel_file, record_index, w, unnest(coalesce(w.affiliations, [])) AS af FROM a),
    y AS (SELECT rel_file, record_index, w, af, unnest(af.years) AS year FROM aff)
    SELECT coalesce(nullif(regexp_extract(w.id, '(A[0-9]+)$', 1), ''), w.id) AS author_id,
      nullif(regexp_extract(w.orcid, '([0-9]{{4}}-[0-9]{{4}}-[0-9]{{4}}-[0-9]{{3}}[0-9Xx])', 1), '')
        AS orcid,
      w.display_name AS author_name, af.institution.display_name AS institution,
      nullif(regexp_extract(af.institution.id, '(I[0-9]+)$', 1), '') AS institution_id,
      nullif(regexp_extract(af.institution.ror, '([0-9a-z]{{9}})$', 1), '') AS ror,
      upper(af.institution.country_code) AS country, af.institution.type AS institution_type,
      year, rel_file AS source_file
    FROM y
    WHERE year IS NOT NULL
    -- an author in several files (two fetches) counts once per institution and year
    QUALIFY row_number() OVER (
      PARTITION BY author_id, coalesce(institution_id, institution), year
      ORDER BY rel_file, record_index) = 1""")
    counts = {
        rel: (kept, bad)
        for rel, kept, bad in db.execute(
            "SELECT rel_file, count(*) FILTER (WHERE problem IS NULL), "
            "count(*) FILTER (WHERE problem IS NOT NULL) FROM _oa_authors_checked GROUP BY 1"
        ).fetchall()
    }
    bad_rows: dict[str, list[Problem]] = {}
    for rel, index, reason, raw in db.execute(
        "SELECT c.rel_file, c.record_index, c.problem, r.j::VARCHAR FROM _oa_authors_checked c "
        "JOIN _oa_authors_recs r USING (rel_file, record_index) WHERE c.problem IS NOT NULL "
        "ORDER BY c.rel_file, c.record_index"
    ).fetchall():
        bad_rows.setdefault(rel, []).append(Problem(index, reason, raw[:MAX_RAW]))
    out: list[FileResult] = []
    for rel, load in loaded.items():
        if load.fatal is not None:
            out.append((rel, 0, 0, load.problems or [Problem(None, load.fatal, "")], load.fatal))
            continue
        kept, _ = counts.get(rel, (0, 0))
        problems = bad_rows.get(rel, []) + load.problems
        out.append((rel, kept + len(problems), kept, problems, None))
    for temp in ("_oa_authors_recs", "_oa_authors_checked"):
        db.execute(f"DROP TABLE {temp}")
    return out
