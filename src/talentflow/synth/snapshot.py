"""Write blocks of synthetic slots as OpenAlex snapshot ``works`` parts (gzip JSON Lines).

DuckDB assembles the nested records (authorships, institutions, topics) from the integer draws
and the string pools and streams them to ``works/updated_date=YYYY-MM-DD/part_NNN.gz``: no
per-record Python. Field names follow the current OpenAlex works schema; ids, ROR ids and ORCID
iDs are synthetic (well-formed, in ranges that do not mean anything; never look them up).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

#: Venues: (display name, is AI). The AI filter's venue list matches the first group.
AI_VENUES = (
    "Neural Information Processing Systems",
    "International Conference on Machine Learning",
    "International Conference on Learning Representations",
    "Computer Vision and Pattern Recognition",
    "Proceedings of the AAAI Conference on Artificial Intelligence",
    "Annual Meeting of the Association for Computational Linguistics",
    "IEEE Transactions on Pattern Analysis and Machine Intelligence",
    "arXiv (Cornell University)",
)
OTHER_VENUES = ("PLoS ONE", "The Lancet", "Journal of Clinical Oncology", "Physical Review B")

#: OpenAlex ids the synthetic works carry (real ids of the real OpenAlex taxonomy).
AI_TOPIC = {
    "field": ("https://openalex.org/fields/17", "Computer Science"),
    "subfield": ("https://openalex.org/subfields/1702", "Artificial Intelligence"),
    "domain": ("https://openalex.org/domains/3", "Physical Sciences"),
    "concepts": (
        ("https://openalex.org/C41008148", "Computer science", 0),
        ("https://openalex.org/C154945302", "Artificial intelligence", 1),
        ("https://openalex.org/C119857082", "Machine learning", 1),
    ),
}
OTHER_TOPIC = {
    "field": ("https://openalex.org/fields/27", "Medicine"),
    "subfield": (
        "https://openalex.org/subfields/2739",
        "Public Health, Environmental and Occupational Health",
    ),
    "domain": ("https://openalex.org/domains/4", "Health Sciences"),
    "concepts": (("https://openalex.org/C71924100", "Medicine", 0),),
}


def _topic_json(t: dict[str, Any], n: int) -> str:
    """The constant ``primary_topic``, ``topics`` and ``concepts`` members of a work (JSON)."""

    def ref(pair: tuple[str, str]) -> dict[str, str]:
        return {"id": pair[0], "display_name": pair[1]}

    topic = {
        "id": f"https://openalex.org/T1{n:04d}",
        "display_name": f"{t['subfield'][1]} (synthetic)",
        "score": 0.9,
        "subfield": ref(t["subfield"]),
        "field": ref(t["field"]),
        "domain": ref(t["domain"]),
    }
    concepts = [
        {"id": cid, "wikidata": None, "display_name": name, "level": lvl, "score": 0.6}
        for cid, name, lvl in t["concepts"]
    ]
    members = {"primary_topic": topic, "topics": [topic], "concepts": concepts}
    return json.dumps(members, separators=(",", ":"))[1:-1]


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register_pools(con: duckdb.DuckDBPyConnection, pools: Any) -> None:
    """Load the string pools into ``con`` (once per generation)."""
    con.register("p_inst", pools.institutions)
    con.register("p_var", pools.variants)
    con.register("p_first", pools.first_names)
    con.register("p_last", pools.last_names)
    venues = [(i, v, True) for i, v in enumerate(AI_VENUES)]
    venues += [(len(AI_VENUES) + i, v, False) for i, v in enumerate(OTHER_VENUES)]
    con.register(
        "p_venue",
        pa.table(
            {
                "vid": [v[0] for v in venues],
                "venue_name": [v[1] for v in venues],
                "ai": [v[2] for v in venues],
            }
        ),
    )
    # Pre-rendered JSON per institution and per string: rows are assembled as text, which
    # is several times cheaper than carrying nested structs through DuckDB's JSON writer.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE inst_json AS
        SELECT idx, country_code, to_json({
                   'id': 'https://openalex.org/I' || (100000000 + idx)::VARCHAR,
                   'display_name': display_name,
                   -- synthetic but well-formed: 0 + 6 hex chars + 2 digits
                   'ror': 'https://ror.org/0' || substr(md5(domain), 1, 6)
                          || lpad((idx % 100)::VARCHAR, 2, '0'),
                   'country_code': country_code,
                   'type': type,
                   'lineage': ['https://openalex.org/I' || (100000000 + idx)::VARCHAR]
               })::VARCHAR AS j
        FROM p_inst;
        CREATE OR REPLACE TEMP TABLE var_json AS
        SELECT vidx, to_json(raw)::VARCHAR AS j FROM p_var;
        CREATE OR REPLACE TEMP TABLE first_json AS SELECT idx, name FROM p_first;
        CREATE OR REPLACE TEMP TABLE last_json AS SELECT idx, name FROM p_last;
        CREATE OR REPLACE TEMP TABLE venue_json AS
        SELECT vid, to_json(venue_name)::VARCHAR AS j,
               to_json('Synthetic work on ' || venue_name)::VARCHAR AS title_tail
        FROM p_venue;
        """
    )


def write_part(
    con: duckdb.DuckDBPyConnection,
    slots: pa.Table,
    works: pa.Table,
    path: Path,
    updated_date: str,
) -> int:
    """Write one part file (gzip JSON Lines) from a block; return the number of works."""
    ai_members = _sql_str(_topic_json(AI_TOPIC, 1))
    other_members = _sql_str(_topic_json(OTHER_TOPIC, 2))
    n_ai, n_other = len(AI_VENUES), len(OTHER_VENUES)
    # Materialise the block first: joins over a registered Arrow scan are ~4x slower.
    con.register("b_slots_arrow", slots)
    con.register("b_works_arrow", works)
    con.execute("CREATE OR REPLACE TEMP TABLE b_slots AS SELECT * FROM b_slots_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE b_works AS SELECT * FROM b_works_arrow")
    con.unregister("b_slots_arrow")
    con.unregister("b_works_arrow")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(
            f"""
            COPY (
            WITH s AS (
                SELECT s.work, s.pos,
                    '{{"author_position":"'
                    || CASE WHEN s.pos = 0 THEN 'first' WHEN s.pos = s.n_authors - 1 THEN 'last'
                            ELSE 'middle' END
                    || '","author":{{"id":"https://openalex.org/A' || s.author_num::VARCHAR
                    || '","display_name":' || to_json(f.name || ' ' || l.name)::VARCHAR
                    || ',"orcid":' || coalesce('"https://orcid.org/' || substr(o, 1, 4) || '-'
                        || substr(o, 5, 4) || '-' || substr(o, 9, 4) || '-' || substr(o, 13, 4)
                        || '"', 'null')
                    || '}},"institutions":[' || concat_ws(',', i1.j, i2.j)
                    || '],"countries":[' || concat_ws(',', '"' || i1.country_code || '"',
                        CASE WHEN i2.country_code IS DISTINCT FROM i1.country_code
                             THEN '"' || i2.country_code || '"' END)
                    || '],"is_corresponding":' || CASE WHEN s.pos = 0 THEN 'true' ELSE 'false' END
                    || ',"raw_author_name":' || to_json(f.name || ' ' || l.name)::VARCHAR
                    || ',"raw_affiliation_strings":[' || concat_ws(',', v1.j, v2.j) || ']}}'
                    AS au
                FROM (
                    SELECT *, lpad(orcid_base::VARCHAR, 15, '0')
                              || CASE WHEN orcid_check = 10 THEN 'X'
                                      ELSE orcid_check::VARCHAR END AS o
                    FROM b_slots
                ) s
                JOIN first_json f ON f.idx = s.first
                JOIN last_json l ON l.idx = s.last
                LEFT JOIN inst_json i1 ON i1.idx = s.inst
                LEFT JOIN inst_json i2 ON i2.idx = s.inst2
                LEFT JOIN var_json v1 ON v1.vidx = s.var
                LEFT JOIN var_json v2 ON v2.vidx = s.var2
            ), a AS (
                SELECT work, string_agg(au, ',' ORDER BY pos) AS authorships FROM s GROUP BY work
            )
            SELECT
                '{{"id":"https://openalex.org/W' || (4000000000 + w.work)::VARCHAR
                || '","doi":"https://doi.org/10.99999/synth.' || w.work::VARCHAR
                || '","title":"Synthetic work ' || w.work::VARCHAR || ' on ' || v.j[2:]
                || ',"display_name":"Synthetic work ' || w.work::VARCHAR || ' on ' || v.j[2:]
                || ',"publication_year":' || w.year::VARCHAR
                || ',"publication_date":"' || w.year::VARCHAR || '-06-01"'
                || ',"type":"article","primary_location":{{"is_oa":false,"source":'
                || '{{"id":"https://openalex.org/S' || (2000000000 + w.vid)::VARCHAR
                || '","display_name":' || v.j || ',"type":"conference"}}}}'
                || ',"authorships":[' || a.authorships || '],'
                || CASE WHEN w.is_ai THEN {ai_members} ELSE {other_members} END
                || ',"updated_date":"{updated_date}"}}' AS line
            FROM (
                SELECT work, year, is_ai,
                       CASE WHEN is_ai THEN venue % {n_ai}
                            ELSE {n_ai} + venue % {n_other} END AS vid
                FROM b_works
            ) w
            JOIN a USING (work) JOIN venue_json v ON v.vid = w.vid
            ORDER BY w.work
            ) TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01',
                           COMPRESSION gzip)
            """
        )
    finally:
        con.execute("DROP TABLE IF EXISTS b_slots; DROP TABLE IF EXISTS b_works")
    return works.num_rows
