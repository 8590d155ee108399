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

import duckdb
import pyarrow as pa

from talentflow.engines.duckdb import unordered_inserts
from talentflow.sources import profile_order

#: Fields that must be strings (or absent) in both formats.
STRING_FIELDS = (
    "author", "aff", "aff_domain", "authorids", "position", "title", "abstract", "keywords",
    "track", "status", "openreview", "dblp", "orcid", "or_profile", "homepage", "linkedin",
    "aff_unique_norm", "aff_unique_index", "aff_country_unique", "aff_country_unique_index",
    "primary_area", "google_scholar",
)  # fmt: skip
#: Per-author fields whose lists must align with ``author``.
PER_AUTHOR = ("aff", "aff_domain", "authorids", "position", "dblp", "orcid",
              "google_scholar", "linkedin", "or_profile",
              "aff_unique_index", "aff_country_unique_index")  # fmt: skip


@dataclass(frozen=True)
class AuthorListFormat:
    """How one source names and ranks things."""

    source: str  # "paperlists" | "openreview" | "openreview_venues"
    #: False for paper metadata without authors (``openreview_venues``): no ``author`` field
    #: is required and the records give papers without author slots.
    has_authors: bool = True


#: Every field read, in one list so each record's JSON is parsed once for types and once for values.
FIELDS = (*STRING_FIELDS, "id", "pid")
_AT = {name: i + 1 for i, name in enumerate(FIELDS)}


#: Every field read as JSON by DuckDB's typed reader: one parse per record, and a field of the
#: wrong type is still seen (``json_type``) instead of being silently cast to text.
TYPED_COLUMNS = "{" + ", ".join(f"'{f}': 'JSON'" for f in FIELDS) + "}"


#: SQL for a DBLP person id in one form (``x``: the field's text). Upstream writes one page
#: several ways: ``175/8873``, ``175/8873.html``, ``https://dblp.uni-trier.de/pid/175/8873``,
#: and old ``…/pers/hd/z/Zhang:Quanshi`` URLs beside ``…/pers/z/Zhang:Quanshi``; one human's
#: two OpenReview profiles can carry two of them (seen for 43 DBLP pages on the real corpus).
DBLP_ID = r"""'dblp:' || nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        trim({x}), '^(https?://)?(www\.)?dblp\.(uni-trier\.de|org|dagstuhl\.de)/(pid/)?', ''),
        '^pers/h[a-z]/', 'pers/'), '\.html$', ''), '/$', ''), '')"""


#: SQL for a Google Scholar profile id (``x``: the field's text): the ``user=`` parameter of a
#: profile URL, or a bare 12-character id. A URL without it (``citations?hl=en``, hundreds of
#: profiles' placeholder) names nobody.
SCHOLAR_ID = r"""'scholar:' || CASE
        WHEN regexp_full_match(trim({x}), '[A-Za-z0-9_-]{{12}}') THEN trim({x})
        ELSE nullif(regexp_extract({x}, '[?&]user=([A-Za-z0-9_-]{{12}})', 1), '') END"""
#: SQL for a LinkedIn member handle (``x``): the part after ``linkedin.com/in/``, or a bare
#: handle (``jonny-scott-71b245103/``), lower-cased. Other pages (``linkedin.com/feed``) name nobody.
LINKEDIN_ID = r"""'linkedin:' || lower(CASE
        WHEN regexp_matches({x}, 'linkedin\.com/in/', 'i')
          THEN nullif(regexp_extract({x}, 'linkedin\.com/in/([^/?#]+)', 1, 'i'), '')
        WHEN regexp_full_match(rtrim(trim({x}), '/'), '[^/?#:.\s]+')
          THEN rtrim(trim({x}), '/') END)"""


def _v(name: str) -> str:
    """SQL for the string value of field ``name`` of a valid record (a ``v_`` column)."""
    return f"v_{name}"


def _type_checks() -> str:
    checks = [
        f"""CASE WHEN coalesce(types[{_AT[f]}], 'NULL') NOT IN ('VARCHAR', 'NULL')
            THEN 'field "{f}" is ' || types[{_AT[f]}] || ', expected a string' END"""
        for f in STRING_FIELDS
    ]
    checks.append(
        f"""CASE WHEN coalesce(types[{_AT["id"]}], 'NULL') NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')
            THEN 'field "id" is ' || types[{_AT["id"]}] || ', expected a string' END"""
    )
    return ", ".join(checks)


def validate_sql(records: str, *, has_authors: bool = True) -> str:
    """SQL giving ``record_index, rel_file, vals, problem`` (problem NULL when the record is usable).

    ``has_authors`` False (paper metadata) drops the check that an ``author`` list is present.
    """
    missing_author = (
        f"coalesce(types[{_AT['author']}], 'NULL') = 'NULL'" if has_authors else "FALSE"
    )
    paths = "[" + ", ".join(f"'$.{f}'" for f in FIELDS) + "]"
    return f"""
    WITH parsed AS (
      SELECT record_index, rel_file, j, json_type(j) AS jt,
        CASE WHEN json_type(j) = 'OBJECT' THEN json_type(j, {paths}) END AS types,
        CASE WHEN json_type(j) = 'OBJECT' THEN json_extract_string(j, {paths}) END AS vals
      FROM {records}
    )
    SELECT record_index, rel_file, vals,
      CASE
        WHEN jt <> 'OBJECT' THEN 'record is not a JSON object (found ' || jt || ')'
        WHEN {missing_author} THEN 'missing field "author"'
        ELSE nullif(concat_ws('; ', {_type_checks()}), '')
      END AS problem
    FROM parsed"""


def _clean_record_sql(has_authors: bool = True) -> str:
    """SQL true when a typed-read record needs no quarantine (mirrors ``validate_sql``)."""
    checks = [f"coalesce(json_type({f}), 'NULL') IN ('VARCHAR', 'NULL')" for f in STRING_FIELDS]
    checks.append("coalesce(json_type(id), 'NULL') IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')")
    # a missing author list is a NULL type: compare with a coalesce, or bool_and skips it
    if has_authors:
        checks.append("coalesce(json_type(author), 'NULL') = 'VARCHAR'")
    return " AND ".join(checks)


def load_clean_files(
    db: Any, files: list[tuple[str, str, str, int]], table: str, *, has_authors: bool = True
) -> set[str]:
    """Read whole files with DuckDB's typed JSON reader into a new table ``table``.

    ``files`` holds ``(path, rel_file, venue, year)``. This is the fast path: one pass over
    all files, no per-record positions. A file keeps it only when every record is clean (an
    object, fields of the right types, an author list, an id that is present and unique in
    the file); the rels of all other files are returned, and their rows removed, for the
    careful path (:func:`talentflow.sources.records.load_records` and :func:`validate_sql`),
    which keeps each record's position for the quarantine and for ids made from it.

    ``table`` gets the columns of :func:`valid_records_sql` (what :func:`insert_sql` reads)
    and ``clean``. The type checks and the string values come from the same read, so each
    file is parsed once and the records are materialised once.
    """
    meta = pa.table(
        {
            "path": [f[0] for f in files],
            "rel_file": [f[1] for f in files],
            "venue": [f[2] for f in files],
            "year": pa.array([f[3] for f in files], pa.int32()),
        }
    )
    db.register("_fast_files", meta)
    key = "coalesce(id ->> '$', pid ->> '$')"
    values = ", ".join(f"{f} ->> '$' AS v_{f}" for f in FIELDS)

    read = (
        f"read_json(?, format='array', columns={TYPED_COLUMNS}, filename=true, "
        "maximum_object_size=1073741824)"
    )
    insert = f"""INSERT INTO {table}
        SELECT NULL, m.rel_file, m.venue, m.year, {key}, {_clean_record_sql(has_authors)}, {values}
        FROM {read} t JOIN _fast_files m ON m.path = t.filename"""
    db.execute(
        f"CREATE OR REPLACE TABLE {table} (record_index BIGINT, rel_file VARCHAR, "
        "venue VARCHAR, year INTEGER, record_id VARCHAR, clean BOOLEAN, "
        + ", ".join(f"v_{f} VARCHAR" for f in FIELDS)
        + ")"
    )
    careful: set[str] = set()
    # no per-record positions are taken here, so the reader may interleave files
    with unordered_inserts(db):
        try:
            if files:
                db.execute(insert, [meta["path"].to_pylist()])
        except duckdb.OutOfMemoryException:
            raise  # not a bad file
        except duckdb.Error:  # some file is not a clean array: find which, file by file
            for path, rel, *_ in files:
                try:
                    db.execute(insert, [[path]])
                except duckdb.OutOfMemoryException:
                    raise
                except duckdb.Error:
                    careful.add(rel)
        finally:
            db.unregister("_fast_files")
    unclean = db.execute(f"""
        SELECT rel_file FROM {table} GROUP BY rel_file
        HAVING NOT bool_and(clean)
            OR count(record_id) < count(*) OR count(DISTINCT record_id) < count(*)""").fetchall()
    careful |= {rel for (rel,) in unclean}
    if careful:
        db.execute(
            f"DELETE FROM {table} WHERE rel_file IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(careful)],
        )
    return careful


def valid_records_sql(checked: str) -> str:
    """SQL turning careful-path records that passed ``validate_sql`` into :func:`insert_sql` input.

    Columns: record_index, rel_file, venue, year, record_id, and ``v_<field>`` per field of
    ``FIELDS``. A record id repeated within a file gets the record's position appended, so
    keys stay unique; a record with no id at all is named by its position.
    """
    key = f"coalesce(vals[{_AT['id']}], vals[{_AT['pid']}])"
    values = ", ".join(f"vals[{i}] AS v_{f}" for f, i in _AT.items())
    return f"""SELECT record_index, rel_file, venue, year,
        coalesce({key}, record_index::VARCHAR)
          || CASE WHEN count(*) OVER (PARTITION BY rel_file, {key}) > 1
                  THEN '~' || record_index ELSE '' END AS record_id,
        {values}
        FROM {checked}"""


def _present(field: str) -> str:
    """SQL: the field holds a non-blank list."""
    return f"trim(coalesce({_v(field)}, '')) <> ''"


#: SQL splitting a raw ``+``-joined affiliation into its parts (no lambdas: they are slow).
SPLIT_PLUS = (
    "CASE WHEN {x} IS NULL THEN []::VARCHAR[] "
    # most strings hold no '+': skip the regular expression for them
    "WHEN strpos({x}, '+') = 0 THEN [trim({x}, ' ')] "
    "ELSE string_split_regex(trim({x}, '+ '), '\\s*\\+[\\s+]*') END"
)


def _field(f: str, orders: str | None) -> str:
    """SQL for the list text of per-author field ``f``, in author order (see
    :mod:`talentflow.sources.profile_order`: profile fields follow ``or_profile``)."""
    if orders is None or f not in profile_order.PROFILE_FIELDS:
        return _v(f)
    return (
        f"CASE WHEN o.perm IS NOT NULL AND {_present(f)} "
        f"AND len(string_split({_v(f)}, ';')) = len(o.perm) THEN array_to_string("
        f"list_transform(o.perm, k -> coalesce(string_split({_v(f)}, ';')[k], '')), ';') "
        f"ELSE {_v(f)} END"
    )


def insert_sql(valid: str, fmt: AuthorListFormat, orders: str | None = None) -> tuple[str, str]:
    """SQL inserting ``raw_papers`` and ``raw_authorships`` rows from validated records.

    ``valid`` is a relation with the columns of :func:`valid_records_sql`. Per-author lists are split with ``unnest(string_split(...))`` side by side, which zips
    them by position (a shorter list is padded with NULL); a list is used only when its length
    equals the author count. ``orders``, a table of :func:`profile_order.orders`, puts the
    profile fields of records whose ``or_profile`` differs from ``authorids`` back in author
    order; an author it does not place gets no profile fields and ``or_profile`` in
    ``misaligned_fields``.
    """
    source = fmt.source
    lengths = ",\n".join(
        f"CASE WHEN {_present(f)} THEN len(string_split({_v(f)}, ';')) END AS n_{f}"
        for f in PER_AUTHOR
    )
    fields = ", ".join(
        f"{_field(f, orders)} AS f_{f}"
        for f in ("author", *PER_AUTHOR, "aff_unique_norm", "aff_country_unique")
    )
    joined = (
        f"{valid} AS rec LEFT JOIN {orders} o ON o.author IS NOT DISTINCT FROM {_v('author')} "
        f"AND o.authorids IS NOT DISTINCT FROM {_v('authorids')} "
        f"AND nullif(trim(o.or_profile), '') IS NOT DISTINCT FROM nullif(trim({_v('or_profile')}), '')"
        if orders
        else f"{valid} AS rec"
    )
    perm = "o.perm" if orders else "NULL::INTEGER[]"
    base = f"""
    WITH r AS (
      SELECT rec.*,
        CASE WHEN {_present("author")} THEN len(string_split({_v("author")}, ';')) ELSE 0 END
          AS n_authors,
        {lengths},
        {fields},
        {perm} AS f_perm
      FROM {joined}
    )"""
    papers = f"""{base}
    INSERT INTO raw_papers BY NAME
    SELECT '{source}:' || venue || year || ':' || record_id AS rec_key, '{source}' AS source,
      venue, year, record_id,
      CASE
        WHEN '{source}' IN ('openreview', 'openreview_venues') THEN {_v("id")}
        WHEN nullif(regexp_extract({_v("openreview")}, '[?&]id=([^&#]+)', 1), '') IS NOT NULL
          THEN regexp_extract({_v("openreview")}, '[?&]id=([^&#]+)', 1)
        WHEN venue = 'iclr' OR coalesce({_v("authorids")}, '') LIKE '%~%' THEN {_v("id")}
      END AS openreview_id,
      {_v("title")} AS title,
      nullif(regexp_replace(lower({_v("title")}), '[^\\pL\\pN]+', '', 'g'), '') AS norm_title,
      {_v("abstract")} AS abstract, {_v("keywords")} AS keywords, {_v("track")} AS track,
      {_v("status")} AS status, {_v("primary_area")} AS primary_area, NULL AS doi, NULL AS openalex_id, NULL AS venue_name,
      n_authors::INTEGER AS n_authors, rel_file AS source_file, record_index
    FROM r"""
    aligned = {f: f"(n_{f} IS NULL OR n_{f} = n_authors)" for f in PER_AUTHOR}
    unnests = ",\n".join(
        f"unnest(string_split(coalesce(f_{f}, ''), ';')) AS u_{f}" for f in PER_AUTHOR
    )
    slot = {f: f"CASE WHEN {aligned[f]} THEN nullif(trim(u_{f}), '') END" for f in PER_AUTHOR}
    misaligned = (
        "list_filter(["
        + ", ".join(f"CASE WHEN NOT {aligned[f]} THEN '{f}' END" for f in PER_AUTHOR)
        + "], x -> x IS NOT NULL)"
    )
    label = (
        "CASE WHEN {idx} IS NULL OR {names} IS NULL THEN NULL "
        "WHEN strpos({idx}, '+') = 0 THEN trim({names}[TRY_CAST({idx} AS INTEGER) + 1]) "
        "ELSE array_to_string(list_select({names}, list_transform("
        "string_split({idx}, '+'), i -> TRY_CAST(trim(i) AS INTEGER) + 1)), '+') END"
    )
    authorships = f"""{base},
    s AS (
      SELECT rel_file, venue, year, record_id, n_authors,
        -- the label lists are split once per paper, not once per author slot
        string_split(f_aff_unique_norm, ';') AS f_aff_unique_norm,
        string_split(f_aff_country_unique, ';') AS f_aff_country_unique,
        {", ".join(f"n_{f}" for f in PER_AUTHOR)}, f_perm,
        unnest(generate_series(0, n_authors - 1)) AS pos,
        unnest(string_split(f_author, ';')) AS u_author,
        {unnests}
      FROM r WHERE n_authors > 0
    ),
    v AS (
      SELECT rel_file, venue, year, record_id, pos, trim(u_author) AS author_name,
        -- an author whose or_profile entry was not found: their profile fields stay empty
        coalesce(f_perm IS NOT NULL AND f_perm[pos + 1] IS NULL, false) AS unplaced,
        {slot["aff"]} AS aff, lower({slot["aff_domain"]}) AS email_domain,
        {slot["authorids"]} AS aid, {slot["position"]} AS career_position,
        {slot["dblp"]} AS dblp_raw, {slot["orcid"]} AS orcid_raw,
        {slot["google_scholar"]} AS scholar_raw, {slot["linkedin"]} AS linkedin_raw,
        -- the author's own or_profile entry only where the record was put back in order
        CASE WHEN f_perm IS NOT NULL THEN {slot["or_profile"]} END AS current_raw,
        {slot["aff_unique_index"]} AS uidx, {slot["aff_country_unique_index"]} AS cidx,
        f_aff_unique_norm AS names, f_aff_country_unique AS cnames,
        {aligned["aff"]} AND {aligned["aff_domain"]} AS aligned,
        CASE WHEN {" AND ".join(aligned.values())} THEN []::VARCHAR[] ELSE {misaligned} END
          AS misaligned_fields
      FROM s WHERE pos IS NOT NULL AND u_author IS NOT NULL
    ),
    w AS (
      SELECT * REPLACE (
        aligned AND NOT unplaced AS aligned,
        CASE WHEN unplaced THEN list_append(misaligned_fields, 'or_profile')
          ELSE misaligned_fields END AS misaligned_fields)
      FROM v
    )
    INSERT INTO raw_authorships BY NAME
    SELECT '{source}:' || venue || year || ':' || record_id AS rec_key,
      pos::INTEGER AS author_position, author_name,
      CASE
        WHEN aid IS NULL THEN NULL
        WHEN aid LIKE '~%' THEN 'openreview:' || aid
        WHEN aid LIKE '/%' THEN 'acl:' || aid
        WHEN regexp_full_match(aid, '[0-9]+') THEN 'ieee:' || aid
        -- old OpenReview ids are e-mail addresses: keep a hash as the identifier, not the address
        WHEN aid LIKE '%@%' THEN 'email:' || sha256(lower(aid))
        ELSE 'other:' || aid
      END AS source_person_id,
      upper(nullif(regexp_extract(orcid_raw, '([0-9]{{4}}-[0-9]{{4}}-[0-9]{{4}}-[0-9]{{3}}[0-9Xx])', 1), ''))
        AS orcid,
      {DBLP_ID.format(x="dblp_raw")} AS dblp,
      {SCHOLAR_ID.format(x="scholar_raw")} AS scholar,
      {LINKEDIN_ID.format(x="linkedin_raw")} AS linkedin,
      -- OpenReview's own merge: the profile this author's id was renamed or merged into
      CASE WHEN current_raw LIKE '~%' AND aid LIKE '~%' AND current_raw <> aid
        THEN 'openreview:' || current_raw END AS current_profile,
      aff AS raw_affiliation, {SPLIT_PLUS.format(x="aff")} AS affiliations,
      email_domain, career_position, aligned, misaligned_fields,
      {label.format(idx="uidx", names="names")} AS label_institution,
      {label.format(idx="cidx", names="cnames")} AS label_country,
      NULL AS source_institution, NULL AS source_country, NULL AS source_ror,
      '{source}' AS source, rel_file AS source_file
    FROM w"""
    return papers, authorships


def ingest(db: Any, valid: str, fmt: AuthorListFormat) -> None:
    """Insert the validated records of ``valid`` into the raw tables.

    Row order of the raw tables carries no meaning (every later step orders by key): set
    ``preserve_insertion_order = false`` on ``db`` first, which makes these inserts 2-3x
    cheaper.
    """
    orders = f"_profile_order_{fmt.source}"
    pending = db.execute(
        f"SELECT DISTINCT {_v('author')}, {_v('authorids')}, {_v('or_profile')} FROM {valid} "
        f"WHERE {_present('or_profile')} AND {_v('or_profile')} IS DISTINCT FROM {_v('authorids')}"
    ).fetchall()
    found = profile_order.orders(pending)
    # Without or_profile: only what homepages and LinkedIn handles show (ICLR 2023).
    unordered = db.execute(
        f"SELECT DISTINCT {_v('author')}, {_v('authorids')}, {_v('homepage')}, {_v('linkedin')} "
        f"FROM {valid} WHERE NOT {_present('or_profile')} "
        f"AND ({_present('homepage')} OR {_present('linkedin')})"
    ).fetchall()
    shown = profile_order.prefix_orders(unordered)
    table = pa.concat_tables([found, shown])
    # Per distinct author list, in Python: a few thousand records of the corpus.
    db.register(orders + "_arrow", table)
    db.execute(f"CREATE OR REPLACE TEMP TABLE {orders} AS SELECT * FROM {orders}_arrow")
    db.unregister(orders + "_arrow")
    papers, authorships = insert_sql(valid, fmt, orders)
    db.execute(papers)
    db.execute(authorships)
    db.execute(f"DROP TABLE IF EXISTS {orders}")
