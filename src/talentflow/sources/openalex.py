"""OpenAlex works: JSON arrays (API pages, or ``{"results": [...]}``) or JSON Lines, plain or gzip.

Both schemas are read: the 2022 one (``host_venue``, ``authorships[].raw_affiliation_string``)
and the current one (``primary_location.source``, ``raw_affiliation_strings``,
``institutions[].country_code``). What OpenAlex itself says about institutions is kept in
``source_institution`` / ``source_country`` / ``source_ror``, apart from the raw string that our
own resolver reads. Files: ``openalex/**/*.json``, ``*.jsonl``, ``*.json.gz``, ``*.jsonl.gz``.
"""

from __future__ import annotations

from typing import Any

FOLDER = "openalex"
SOURCE = "openalex"
PATTERNS = ("*.json", "*.jsonl", "*.json.gz", "*.jsonl.gz", "*.gz")
#: SQL: the short work id (``W123``) of record ``j``.
WORK_ID = "coalesce(nullif(regexp_extract(j ->> 'id', '(W[0-9]+)$', 1), ''), j ->> 'id')"


def validate_sql(records: str) -> str:
    """SQL giving ``record_index, rel_file, problem`` (problem NULL when usable).

    The record itself is not repeated: join it back from ``records`` by (rel_file,
    record_index), so the JSON text of a batch is held once, not once per step.
    """
    return f"""
    SELECT record_index, rel_file,
      CASE
        WHEN json_type(j) <> 'OBJECT'
          THEN 'record is not a JSON object (found ' || json_type(j) || ')'
        WHEN json_type(j, '$.id') IS DISTINCT FROM 'VARCHAR' THEN 'missing or non-string field "id"'
        WHEN json_type(j, '$.authorships') NOT IN ('ARRAY', 'NULL')
          THEN 'field "authorships" is ' || json_type(j, '$.authorships') || ', expected an array'
        WHEN TRY_CAST(j ->> 'publication_year' AS INTEGER) IS NULL
          THEN 'missing or non-integer field "publication_year"'
        WHEN json_type(j, '$.title') NOT IN ('VARCHAR', 'NULL')
          THEN 'field "title" is ' || json_type(j, '$.title') || ', expected a string'
      END AS problem
    FROM {records}"""


def ingest(db: Any, valid: str) -> None:
    """Insert validated works of ``valid`` (record_index, j, rel_file) into the raw tables."""
    base = f"""
    WITH r AS (
      SELECT rel_file, record_index, j,
        {WORK_ID} AS work_id,
        -- a work repeated in the input keeps its id at its first appearance (file order); a
        -- later one (in this batch, or after one stored from an earlier batch or an unchanged
        -- file) gets its file and position appended: keys stay unique
        work_id || CASE WHEN row_number() OVER (
                            PARTITION BY work_id ORDER BY rel_file, record_index) > 1
                          OR work_id IN (SELECT record_id FROM _oa_stored)
                        THEN '~' || rel_file || ':' || record_index ELSE '' END AS wid,
        coalesce(j ->> 'title', j ->> 'display_name') AS title,
        TRY_CAST(j ->> 'publication_year' AS INTEGER) AS year,
        coalesce(j ->> '$.primary_location.source.display_name',
                 j ->> '$.host_venue.display_name') AS venue_name,
        nullif(regexp_extract(j ->> 'doi', '(10\\..+)$', 1), '') AS doi,
        list_concat(
          coalesce(json_extract_string(j, '$.topics[*].display_name'), []),
          coalesce(json_extract_string(j, '$.keywords[*].display_name'), []),
          coalesce(json_extract_string(j, '$.concepts[*].display_name'), [])
        ) AS kw,
        coalesce(json_extract(j, '$.authorships[*]'), []) AS auths
      FROM {valid}
    )"""
    # the ids stored before this call, taken once: the papers insert below adds to raw_papers
    db.execute(f"""CREATE OR REPLACE TEMP TABLE _oa_stored AS
        SELECT record_id FROM raw_papers WHERE source = 'openalex' AND record_id IN (
          SELECT {WORK_ID}
          FROM {valid})""")
    db.execute(f"""{base}
    INSERT INTO raw_papers BY NAME
    SELECT 'openalex:' || wid AS rec_key, 'openalex' AS source, 'openalex' AS venue, year,
      wid AS record_id, NULL AS openreview_id, title,
      nullif(regexp_replace(lower(title), '[^\\pL\\pN]+', '', 'g'), '') AS norm_title,
      NULL AS abstract, nullif(array_to_string(kw, ';'), '') AS keywords, NULL AS track,
      NULL AS status, doi, work_id AS openalex_id, venue_name, len(auths)::INTEGER AS n_authors,
      rel_file AS source_file, record_index
    FROM r""")
    db.execute(f"""{base},
    s AS (
      SELECT wid, rel_file, unnest(auths) AS a, unnest(generate_series(0, len(auths) - 1)) AS pos
      FROM r WHERE len(auths) > 0
    ),
    v AS (
      SELECT wid, rel_file, pos, a,
        coalesce(
          nullif(array_to_string(json_extract_string(a, '$.raw_affiliation_strings[*]'), '+'), ''),
          a ->> 'raw_affiliation_string') AS aff
      FROM s
    )
    INSERT INTO raw_authorships BY NAME
    SELECT 'openalex:' || wid AS rec_key, pos::INTEGER AS author_position,
      coalesce(a ->> '$.author.display_name', a ->> 'raw_author_name') AS author_name,
      CASE WHEN a ->> '$.author.id' IS NOT NULL THEN 'openalex:' || coalesce(
        nullif(regexp_extract(a ->> '$.author.id', '(A[0-9]+)$', 1), ''), a ->> '$.author.id') END
        AS source_person_id,
      nullif(regexp_extract(a ->> '$.author.orcid',
        '([0-9]{{4}}-[0-9]{{4}}-[0-9]{{4}}-[0-9]{{3}}[0-9Xx])', 1), '') AS orcid,
      NULL AS dblp, nullif(trim(aff), '') AS raw_affiliation,
      CASE WHEN nullif(trim(aff), '') IS NULL THEN []::VARCHAR[]
           ELSE list_filter(list_transform(string_split(aff, '+'), x -> trim(x)), x -> x <> '') END
        AS affiliations,
      NULL AS email_domain, NULL AS career_position, TRUE AS aligned,
      []::VARCHAR[] AS misaligned_fields, NULL AS label_institution, NULL AS label_country,
      nullif(array_to_string(json_extract_string(a, '$.institutions[*].display_name'), '+'), '')
        AS source_institution,
      nullif(array_to_string(json_extract_string(a, '$.institutions[*].country_code'), '+'), '')
        AS source_country,
      nullif(array_to_string(json_extract_string(a, '$.institutions[*].ror'), '+'), '')
        AS source_ror,
      'openalex' AS source, rel_file AS source_file
    FROM v""")
    db.execute("DROP TABLE _oa_stored")
