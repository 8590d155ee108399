"""Shared reader for the two `;`-separated author-list formats (paperlists and OpenReview).

Both formats hold one JSON object per paper with per-author fields joined by ``;`` in author
order. Everything below runs as SQL over the whole file in DuckDB: records are validated
(wrong field types go to quarantine with the field named), per-author lists are split and
checked for alignment (a list whose length differs from the author list is *not* guessed at:
the slot gets NULL and the field is named in ``misaligned_fields``), identifiers are
namespaced, and ``+``-joined multi-affiliations are split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Fields that must be strings (or absent) in both formats.
STRING_FIELDS = (
    "author", "aff", "aff_domain", "authorids", "position", "title", "abstract", "keywords",
    "track", "status", "openreview", "dblp", "orcid", "or_profile",
    "aff_unique_norm", "aff_unique_index", "aff_country_unique", "aff_country_unique_index",
)  # fmt: skip
#: Per-author fields whose lists must align with ``author``.
PER_AUTHOR = ("aff", "aff_domain", "authorids", "position", "dblp", "orcid",
              "aff_unique_index", "aff_country_unique_index")  # fmt: skip


@dataclass(frozen=True)
class AuthorListFormat:
    """How one source names and ranks things."""

    source: str  # "paperlists" | "openreview"


#: Every field read, in one list so each record's JSON is parsed once for types and once for values.
FIELDS = (*STRING_FIELDS, "id", "pid")
_AT = {name: i + 1 for i, name in enumerate(FIELDS)}


def _v(name: str) -> str:
    """SQL for the string value of field ``name`` of a checked record."""
    return f"vals[{_AT[name]}]"


def _type_checks() -> str:
    checks = [
        f"""CASE WHEN coalesce(types[{_AT[f]}], 'NULL') NOT IN ('VARCHAR', 'NULL')
            THEN 'field "{f}" is ' || types[{_AT[f]}] || ', expected a string' END"""
        for f in STRING_FIELDS
    ]
    checks.append(
        f"""CASE WHEN coalesce(types[{_AT['id']}], 'NULL') NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')
            THEN 'field "id" is ' || types[{_AT['id']}] || ', expected a string' END"""
    )
    return ", ".join(checks)


def validate_sql(records: str) -> str:
    """SQL giving ``record_index, j, vals, problem`` (problem NULL when the record is usable)."""
    paths = "[" + ", ".join(f"'$.{f}'" for f in FIELDS) + "]"
    return f"""
    WITH parsed AS (
      SELECT record_index, j, json_type(j) AS jt,
        CASE WHEN json_type(j) = 'OBJECT' THEN json_type(j, {paths}) END AS types,
        CASE WHEN json_type(j) = 'OBJECT' THEN json_extract_string(j, {paths}) END AS vals
      FROM {records}
    )
    SELECT record_index, j, vals,
      CASE
        WHEN jt <> 'OBJECT' THEN 'record is not a JSON object (found ' || jt || ')'
        WHEN coalesce(types[{_AT['author']}], 'NULL') = 'NULL' THEN 'missing field "author"'
        ELSE nullif(concat_ws('; ', {_type_checks()}), '')
      END AS problem
    FROM parsed"""


def insert_sql(valid: str, fmt: AuthorListFormat) -> tuple[str, str]:
    """SQL inserting ``raw_papers`` and ``raw_authorships`` rows from validated records.

    ``valid`` is a relation with columns record_index, j, rel_file, venue, year.
    """
    source = fmt.source
    split = "CASE WHEN {x} IS NULL OR trim({x}) = '' THEN NULL ELSE list_transform(string_split({x}, ';'), s -> nullif(trim(s), '')) END"
    lists = ",\n".join(f"{split.format(x=f'(vals[{_AT[f]}])')} AS l_{f}" for f in PER_AUTHOR)
    base = f"""
    WITH r AS (
      SELECT rel_file, venue, year, record_index,
        -- a record id repeated within a file gets its position appended, so keys stay unique
        coalesce({_v('id')}, {_v('pid')}, record_index::VARCHAR)
          || CASE WHEN count(*) OVER (PARTITION BY coalesce({_v('id')}, {_v('pid')})) > 1
                  THEN '~' || record_index ELSE '' END AS record_id,
        {_v('title')} AS title, {_v('abstract')} AS abstract, {_v('keywords')} AS keywords,
        {_v('track')} AS track, {_v('status')} AS status,
        CASE
          WHEN '{source}' = 'openreview' THEN {_v('id')}
          WHEN nullif(regexp_extract({_v('openreview')}, '[?&]id=([^&#]+)', 1), '') IS NOT NULL
            THEN regexp_extract({_v('openreview')}, '[?&]id=([^&#]+)', 1)
          WHEN venue = 'iclr' OR coalesce({_v('authorids')}, '') LIKE '%~%' THEN {_v('id')}
        END AS openreview_id,
        CASE WHEN trim(coalesce({_v('author')}, '')) = '' THEN []::VARCHAR[]
             ELSE list_transform(string_split({_v('author')}, ';'), s -> trim(s)) END AS authors,
        {lists},
        CASE WHEN {_v('aff_unique_norm')} IS NULL THEN NULL
             ELSE list_transform(string_split({_v('aff_unique_norm')}, ';'), s -> trim(s)) END AS l_norm,
        CASE WHEN {_v('aff_country_unique')} IS NULL THEN NULL
             ELSE list_transform(string_split({_v('aff_country_unique')}, ';'), s -> trim(s)) END AS l_cnorm
      FROM {valid}
    )"""
    papers = f"""{base}
    INSERT INTO raw_papers BY NAME
    SELECT '{source}:' || venue || year || ':' || record_id AS rec_key, '{source}' AS source,
      venue, year, record_id, openreview_id, title,
      nullif(regexp_replace(lower(title), '[^\\pL\\pN]+', '', 'g'), '') AS norm_title,
      abstract, keywords, track, status, NULL AS doi, NULL AS openalex_id, NULL AS venue_name,
      len(authors)::INTEGER AS n_authors, rel_file AS source_file, record_index
    FROM r"""
    aligned = {f: f"(l_{f} IS NULL OR len(l_{f}) = len(authors))" for f in PER_AUTHOR}
    slot = {f: f"CASE WHEN {aligned[f]} THEN l_{f}[pos] END" for f in PER_AUTHOR}
    misaligned = "list_filter([" + ", ".join(
        f"CASE WHEN NOT {aligned[f]} THEN '{f}' END" for f in PER_AUTHOR
    ) + "], x -> x IS NOT NULL)"
    authorships = f"""{base},
    s AS (
      SELECT r.*, unnest(generate_series(1, len(authors))) AS pos FROM r WHERE len(authors) > 0
    ),
    v AS (
      SELECT rel_file, venue, year, record_id, pos, authors[pos] AS author_name,
        {slot['aff']} AS aff, {slot['aff_domain']} AS dom, {slot['authorids']} AS aid,
        {slot['position']} AS career_position, {slot['dblp']} AS dblp_raw,
        {slot['orcid']} AS orcid_raw, {slot['aff_unique_index']} AS uidx,
        {slot['aff_country_unique_index']} AS cidx, l_norm, l_cnorm,
        {aligned['aff']} AND {aligned['aff_domain']} AS aligned,
        {misaligned} AS misaligned_fields
      FROM s
    )
    INSERT INTO raw_authorships BY NAME
    SELECT '{source}:' || venue || year || ':' || record_id AS rec_key,
      (pos - 1)::INTEGER AS author_position, author_name,
      CASE
        WHEN aid IS NULL THEN NULL
        WHEN aid LIKE '~%' THEN 'openreview:' || aid
        WHEN aid LIKE '/%' THEN 'acl:' || aid
        WHEN regexp_full_match(aid, '[0-9]+') THEN 'ieee:' || aid
        -- old OpenReview ids are e-mail addresses: keep a hash as the identifier, not the address
        WHEN aid LIKE '%@%' THEN 'email:' || sha256(lower(aid))
        ELSE 'other:' || aid
      END AS source_person_id,
      nullif(regexp_extract(orcid_raw, '([0-9]{{4}}-[0-9]{{4}}-[0-9]{{4}}-[0-9]{{3}}[0-9Xx])', 1), '') AS orcid,
      CASE WHEN dblp_raw IS NOT NULL THEN 'dblp:' || dblp_raw END AS dblp,
      aff AS raw_affiliation,
      CASE WHEN aff IS NULL THEN []::VARCHAR[]
           ELSE list_filter(list_transform(string_split(aff, '+'), x -> trim(x)), x -> x <> '') END
        AS affiliations,
      lower(dom) AS email_domain, career_position, aligned, misaligned_fields,
      CASE WHEN uidx IS NOT NULL AND l_norm IS NOT NULL THEN array_to_string(list_transform(
        string_split(uidx, '+'), i -> l_norm[TRY_CAST(trim(i) AS INTEGER) + 1]), '+') END
        AS label_institution,
      CASE WHEN cidx IS NOT NULL AND l_cnorm IS NOT NULL THEN array_to_string(list_transform(
        string_split(cidx, '+'), i -> l_cnorm[TRY_CAST(trim(i) AS INTEGER) + 1]), '+') END
        AS label_country,
      NULL AS source_institution, NULL AS source_country, NULL AS source_ror,
      '{source}' AS source, rel_file AS source_file
    FROM v"""
    return papers, authorships


def ingest(db: Any, valid: str, fmt: AuthorListFormat) -> None:
    """Insert the validated records of ``valid`` into the raw tables."""
    papers, authorships = insert_sql(valid, fmt)
    db.execute(papers)
    db.execute(authorships)
