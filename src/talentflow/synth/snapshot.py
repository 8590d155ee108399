"""Write blocks of synthetic slots as OpenAlex snapshot ``works`` parts (gzip JSON Lines).

DuckDB assembles the nested records (authorships, institutions, topics) from the integer draws
and the string pools and streams them to ``works/updated_date=YYYY-MM-DD/part_NNN.gz``: no
per-record Python. Field names follow the current OpenAlex works schema; ids, ROR ids and ORCID
iDs are synthetic (well-formed, in ranges that do not mean anything; never look them up).
"""

from __future__ import annotations

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
    "subfield": ("https://openalex.org/subfields/2739", "Public Health, Environmental and Occupational Health"),
    "domain": ("https://openalex.org/domains/4", "Health Sciences"),
    "concepts": (("https://openalex.org/C71924100", "Medicine", 0),),
}


def _topic_sql(t: dict[str, Any], n: int) -> str:
    def ref(pair: tuple[str, str]) -> str:
        return f"{{'id': '{pair[0]}', 'display_name': '{pair[1]}'}}"

    concepts = ", ".join(
        f"{{'id': '{cid}', 'wikidata': NULL, 'display_name': '{name}', 'level': {lvl}, "
        f"'score': 0.6}}"
        for cid, name, lvl in t["concepts"]
    )
    topic = (
        f"{{'id': 'https://openalex.org/T1{n:04d}', 'display_name': '{t['subfield'][1]} (synthetic)', "
        f"'score': 0.9, 'subfield': {ref(t['subfield'])}, 'field': {ref(t['field'])}, "
        f"'domain': {ref(t['domain'])}}}"
    )
    return topic, f"[{concepts}]"


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
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE inst_struct AS
        SELECT idx, {'id': 'https://openalex.org/I' || (100000000 + idx)::VARCHAR,
                     'display_name': display_name,
                     -- synthetic but well-formed: 0 + 6 base-32-ish chars + 2 digits
                     'ror': 'https://ror.org/0' || substr(md5(domain), 1, 6)
                            || lpad((idx % 100)::VARCHAR, 2, '0'),
                     'country_code': country_code,
                     'type': type,
                     'lineage': ['https://openalex.org/I' || (100000000 + idx)::VARCHAR]} AS s,
               country_code
        FROM p_inst;
        ALTER TABLE inst_struct ADD COLUMN j VARCHAR;
        UPDATE inst_struct SET j = to_json(s)::VARCHAR;
        """
    )


def write_part(
    con: duckdb.DuckDBPyConnection,
    slots: pa.Table,
    works: pa.Table,
    path: Path,
    updated_date: str,
) -> int:
    """Write one part file from a block; return the number of works written."""
    ai_topic, ai_concepts = _topic_sql(AI_TOPIC, 1)
    other_topic, other_concepts = _topic_sql(OTHER_TOPIC, 2)
    n_ai, n_other = len(AI_VENUES), len(OTHER_VENUES)
    con.register("b_slots", slots)
    con.register("b_works", works)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(
            f"""
            COPY (
            WITH a AS (
                SELECT s.work,
                    list({{
                        'author_position': CASE WHEN s.pos = 0 THEN 'first'
                                                WHEN s.pos = s.n_authors - 1 THEN 'last'
                                                ELSE 'middle' END,
                        'author': {{
                            'id': 'https://openalex.org/A' || s.author_num::VARCHAR,
                            'display_name': f.name || ' ' || l.name,
                            'orcid': CASE WHEN s.orcid_base IS NOT NULL THEN
                                'https://orcid.org/' || substr(o, 1, 4) || '-' || substr(o, 5, 4)
                                || '-' || substr(o, 9, 4) || '-' || substr(o, 13, 4) END
                        }},
                        -- pre-rendered JSON: carrying nested structs through the
                        -- aggregation is several times slower
                        'institutions': ('[' || concat_ws(',', i1.j, i2.j) || ']')::JSON,
                        'countries': CASE
                            WHEN i2.country_code IS NULL OR i2.country_code = i1.country_code
                                THEN list_filter([i1.country_code], x -> x IS NOT NULL)
                            ELSE list_filter([i1.country_code, i2.country_code],
                                             x -> x IS NOT NULL) END,
                        'is_corresponding': s.pos = 0,
                        'raw_author_name': f.name || ' ' || l.name,
                        'raw_affiliation_strings': CASE
                            WHEN v1.raw IS NULL THEN []
                            WHEN v2.raw IS NULL THEN [v1.raw]
                            ELSE [v1.raw, v2.raw] END
                    }} ORDER BY s.pos) AS authorships
                FROM (
                    SELECT *, lpad(orcid_base::VARCHAR, 15, '0')
                              || CASE WHEN orcid_check = 10 THEN 'X'
                                      ELSE orcid_check::VARCHAR END AS o
                    FROM b_slots
                ) s
                JOIN p_first f ON f.idx = s.first
                JOIN p_last l ON l.idx = s.last
                LEFT JOIN inst_struct i1 ON i1.idx = s.inst
                LEFT JOIN inst_struct i2 ON i2.idx = s.inst2
                LEFT JOIN p_var v1 ON v1.vidx = s.var
                LEFT JOIN p_var v2 ON v2.vidx = s.var2
                GROUP BY s.work
            ), w AS (
                SELECT b.work, b.year,
                    CASE WHEN b.is_ai THEN b.venue % {n_ai}
                         ELSE {n_ai} + b.venue % {n_other} END AS vid,
                    b.is_ai
                FROM b_works b
            )
            SELECT
                'https://openalex.org/W' || (4000000000 + w.work)::VARCHAR AS id,
                'https://doi.org/10.99999/synth.' || w.work::VARCHAR AS doi,
                'Synthetic work ' || w.work::VARCHAR || ' on ' || v.venue_name AS title,
                'Synthetic work ' || w.work::VARCHAR || ' on ' || v.venue_name AS display_name,
                w.year AS publication_year,
                (w.year::VARCHAR || '-06-01') AS publication_date,
                CASE WHEN w.is_ai THEN 'article' ELSE 'article' END AS type,
                {{'is_oa': false,
                  'source': {{'id': 'https://openalex.org/S' || (2000000000 + w.vid)::VARCHAR,
                              'display_name': v.venue_name, 'type': 'conference'}}}}
                    AS primary_location,
                a.authorships,
                CASE WHEN w.is_ai THEN {ai_topic} ELSE {other_topic} END AS primary_topic,
                CASE WHEN w.is_ai THEN [{ai_topic}] ELSE [{other_topic}] END AS topics,
                CASE WHEN w.is_ai THEN {ai_concepts} ELSE {other_concepts} END AS concepts,
                '{updated_date}' AS updated_date
            FROM w JOIN a USING (work) JOIN p_venue v ON v.vid = w.vid
            ORDER BY w.work
            ) TO '{path}' (FORMAT json, COMPRESSION gzip)
            """
        )
    finally:
        con.unregister("b_slots")
        con.unregister("b_works")
    return works.num_rows
