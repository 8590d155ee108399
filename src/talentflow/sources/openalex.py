"""OpenAlex works: JSON arrays (API pages, or ``{"results": [...]}``) or JSON Lines, plain or gzip.

Both schemas are read: the 2022 one (``host_venue``, ``authorships[].raw_affiliation_string``)
and the current one (``primary_location.source``, ``raw_affiliation_strings``,
``institutions[].country_code``). What OpenAlex itself says about institutions is kept in
``source_institution`` / ``source_country`` / ``source_ror``, apart from the raw string that our
own resolver reads. Files: ``openalex/**/*.json``, ``*.jsonl``, ``*.json.gz``, ``*.jsonl.gz``.
"""

from __future__ import annotations

import json
from typing import Any

FOLDER = "openalex"
SOURCE = "openalex"
PATTERNS = ("*.json", "*.jsonl", "*.json.gz", "*.jsonl.gz", "*.gz")


def work_id(value: str) -> str:
    """SQL: the short work id (``W123``) of the id string ``value`` (else the id itself)."""
    return f"coalesce(nullif(regexp_extract({value}, '(W[0-9]+)$', 1), ''), {value})"


def validate_sql(records: str) -> str:
    """SQL giving ``record_index, rel_file, problem`` (problem NULL when usable).

    The record itself is not repeated: join it back from ``records`` by (rel_file,
    record_index), so the JSON text of a batch is held once, not once per step.
    """
    # two parses per record: the types of the checked fields in one call, the year in another
    return f"""
    SELECT record_index, rel_file,
      CASE
        WHEN t[1] <> 'OBJECT' THEN 'record is not a JSON object (found ' || t[1] || ')'
        WHEN t[2] IS DISTINCT FROM 'VARCHAR' THEN 'missing or non-string field "id"'
        WHEN t[3] NOT IN ('ARRAY', 'NULL')
          THEN 'field "authorships" is ' || t[3] || ', expected an array'
        WHEN TRY_CAST(year[1] AS INTEGER) IS NULL
          THEN 'missing or non-integer field "publication_year"'
        WHEN t[4] NOT IN ('VARCHAR', 'NULL')
          THEN 'field "title" is ' || t[4] || ', expected a string'
      END AS problem
    FROM (SELECT record_index, rel_file,
            json_type(j, ['$', '$.id', '$.authorships', '$.title']) AS t,
            json_extract_string(j, ['$.publication_year']) AS year
          FROM {records})"""


#: The fields the raw tables take from a work, as a structure for ``json_transform``: each
#: record is parsed once into it (a field of another type becomes NULL, as with ``->>``).
_NAMED = [{"display_name": "VARCHAR"}]
WORK_FIELDS: dict[str, Any] = {
    "id": "VARCHAR",
    "title": "VARCHAR",
    "display_name": "VARCHAR",
    "publication_year": "VARCHAR",
    "doi": "VARCHAR",
    "primary_location": {"source": {"display_name": "VARCHAR"}},
    "host_venue": {"display_name": "VARCHAR"},
    "topics": _NAMED,
    "keywords": _NAMED,
    "concepts": _NAMED,
    "authorships": [
        {
            "author": {"id": "VARCHAR", "display_name": "VARCHAR", "orcid": "VARCHAR"},
            "raw_author_name": "VARCHAR",
            "raw_affiliation_string": "VARCHAR",
            "raw_affiliation_strings": ["VARCHAR"],
            "institutions": [
                {"display_name": "VARCHAR", "country_code": "VARCHAR", "ror": "VARCHAR"}
            ],
        }
    ],
}
WORK_STRUCTURE = json.dumps(WORK_FIELDS)


def typed(record: str) -> str:
    """SQL: the JSON text ``record`` of a work parsed into :data:`WORK_FIELDS` (``w``)."""
    return f"json_transform({record}, '{WORK_STRUCTURE}')"


#: Fields the typed reader takes as JSON, so that their types can be checked as
#: :func:`validate_sql` checks them (the others are read with the types of ``WORK_FIELDS``).
_CHECKED = ("id", "title", "publication_year")


def _sql_type(shape: Any) -> str:
    """DuckDB type of a ``json_transform`` structure (``{...}``: STRUCT, ``[x]``: LIST)."""
    if isinstance(shape, dict):
        return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in shape.items()) + ")"
    if isinstance(shape, list):
        return _sql_type(shape[0]) + "[]"
    return shape


#: DuckDB type of a typed work (``w``).
WORK_TYPE = _sql_type(WORK_FIELDS)


def typed_read_sql(param: str = "?") -> str:
    """SQL: ``rel_file, record_index, clean, w`` of one works file (path ``param``), typed.

    The fast path of :func:`ingest`'s callers: DuckDB's JSON reader parses each record once,
    straight into the structure of :data:`WORK_FIELDS` (``w``, the same values as
    ``json_transform``). ``clean`` repeats :func:`validate_sql`'s checks on the typed
    fields; a record of another shape (not an object, a field of the wrong type where a
    structure is expected) makes the read fail. A file that fails, or has a record that is
    not clean, is read again record by record, which names each bad record.
    """
    columns = ", ".join(
        f"\"{k}\": '{'JSON' if k in _CHECKED else _sql_type(v)}'" for k, v in WORK_FIELDS.items()
    )
    fields = ", ".join(
        f'"{k}": "{k}" ->> \'$\'' if k in _CHECKED else f'"{k}": "{k}"' for k in WORK_FIELDS
    )
    return f"""
    SELECT ?::VARCHAR AS rel_file, (row_number() OVER () - 1)::BIGINT AS record_index,
      coalesce(json_type("id") = 'VARCHAR'
        AND TRY_CAST("publication_year" ->> '$' AS INTEGER) IS NOT NULL
        AND coalesce(json_type("title") IN ('VARCHAR', 'NULL'), TRUE), FALSE) AS clean,
      {{{fields}}} AS w
    FROM read_json({param}, format='auto', columns={{{columns}}},
                   maximum_object_size=1073741824)"""


def _joined(items: str) -> str:
    """SQL: the non-NULL strings of list ``items`` joined by ``+`` (NULL when none)."""
    return f"nullif(array_to_string(list_filter({items}, x -> x IS NOT NULL), '+'), '')"


def ingest(db: Any, valid: str) -> None:
    """Insert validated works of ``valid`` (record_index, j, rel_file) into the raw tables."""
    db.execute(f"""CREATE OR REPLACE TEMP TABLE _oa AS
        SELECT rel_file, record_index, {typed("j")} AS w FROM {valid}""")
    ingest_works(db, "_oa")
    db.execute("DROP TABLE _oa")


def ingest_works(db: Any, works: str) -> None:
    """Insert the works of ``works`` (rel_file, record_index, ``w``: :data:`WORK_FIELDS`)."""
    # the ids stored before this call, taken once: the papers insert below adds to raw_papers
    db.execute(f"""CREATE OR REPLACE TEMP TABLE _oa_stored AS
        SELECT record_id FROM raw_papers WHERE source = 'openalex' AND record_id IN (
          SELECT {work_id("w.id")} FROM {works})""")
    # The keys of the works only: the inserts below read the typed works from ``works``
    # itself, joined on (rel_file, record_index), so the nested authorships are not copied.
    db.execute(f"""CREATE OR REPLACE TEMP TABLE _oa_keys AS
    WITH r AS (
      SELECT rel_file, record_index, {work_id("w.id")} AS work_id
      FROM {works}
    )
    SELECT rel_file, record_index, work_id,
      -- a work repeated in the input keeps its id at its first appearance (file order); a
      -- later one (in this batch, or after one stored from an earlier batch or an unchanged
      -- file) gets its file and position appended: keys stay unique
      work_id || CASE WHEN row_number() OVER (
                          PARTITION BY work_id ORDER BY rel_file, record_index) > 1
                        OR work_id IN (SELECT record_id FROM _oa_stored)
                      THEN '~' || rel_file || ':' || record_index ELSE '' END AS wid
    FROM r""")
    db.execute(f"""CREATE OR REPLACE TEMP VIEW _oa_works AS
    SELECT k.rel_file, k.record_index, k.work_id, k.wid,
      coalesce(w.title, w.display_name) AS title,
      TRY_CAST(w.publication_year AS INTEGER) AS year,
      coalesce(w.primary_location.source.display_name, w.host_venue.display_name) AS venue_name,
      nullif(regexp_extract(w.doi, '(10\\..+)$', 1), '') AS doi,
      list_concat(
        coalesce(list_transform(w.topics, x -> x.display_name), []),
        coalesce(list_transform(w.keywords, x -> x.display_name), []),
        coalesce(list_transform(w.concepts, x -> x.display_name), [])
      ) AS kw,
      coalesce(w.authorships, []) AS auths
    FROM {works} JOIN _oa_keys k USING (rel_file, record_index)""")
    db.execute("""
    INSERT INTO raw_papers BY NAME
    SELECT 'openalex:' || wid AS rec_key, 'openalex' AS source, 'openalex' AS venue, year,
      wid AS record_id, NULL AS openreview_id, title,
      nullif(regexp_replace(lower(title), '[^\\pL\\pN]+', '', 'g'), '') AS norm_title,
      NULL AS abstract, nullif(array_to_string(kw, ';'), '') AS keywords, NULL AS track,
      NULL AS status, doi, work_id AS openalex_id, venue_name, len(auths)::INTEGER AS n_authors,
      rel_file AS source_file, record_index
    FROM _oa_works""")
    db.execute(f"""
    WITH s AS (
      SELECT wid, rel_file, unnest(auths) AS a, unnest(generate_series(0, len(auths) - 1)) AS pos
      FROM _oa_works WHERE len(auths) > 0
    ),
    v AS (
      SELECT wid, rel_file, pos, a,
        coalesce({_joined("a.raw_affiliation_strings")}, a.raw_affiliation_string) AS aff
      FROM s
    )
    INSERT INTO raw_authorships BY NAME
    SELECT 'openalex:' || wid AS rec_key, pos::INTEGER AS author_position,
      coalesce(a.author.display_name, a.raw_author_name) AS author_name,
      CASE WHEN a.author.id IS NOT NULL THEN 'openalex:' || coalesce(
        nullif(regexp_extract(a.author.id, '(A[0-9]+)$', 1), ''), a.author.id) END
        AS source_person_id,
      nullif(regexp_extract(a.author.orcid,
        '([0-9]{{4}}-[0-9]{{4}}-[0-9]{{4}}-[0-9]{{3}}[0-9Xx])', 1), '') AS orcid,
      NULL AS dblp, nullif(trim(aff), '') AS raw_affiliation,
      CASE WHEN nullif(trim(aff), '') IS NULL THEN []::VARCHAR[]
           ELSE list_filter(list_transform(string_split(aff, '+'), x -> trim(x)), x -> x <> '') END
        AS affiliations,
      NULL AS email_domain, NULL AS career_position, TRUE AS aligned,
      []::VARCHAR[] AS misaligned_fields, NULL AS label_institution, NULL AS label_country,
      {_joined("list_transform(a.institutions, x -> x.display_name)")} AS source_institution,
      {_joined("list_transform(a.institutions, x -> x.country_code)")} AS source_country,
      {_joined("list_transform(a.institutions, x -> x.ror)")} AS source_ror,
      'openalex' AS source, rel_file AS source_file
    FROM v""")
    db.execute("DROP VIEW _oa_works")
    for temp in ("_oa_stored", "_oa_keys"):
        db.execute(f"DROP TABLE {temp}")
