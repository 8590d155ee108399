"""Pools the synthetic corpus draws from, taken from the real data mirror.

Institutions are the distinct email domains of aligned author slots in ``paperlists/`` and
``openreview/``; each institution keeps every raw affiliation string seen with its domain (its
string variants, with their real frequencies). Countries come from the university-domains
registry, then the ROR names, then the country-code top-level domain; types from the ROR names,
then the domain (``.edu``/``.ac.`` -> education, ``.com`` -> company). Name pools are the first and
last tokens of real author names (names are only labels here; nothing is inferred from them).

All the work is DuckDB SQL over the mirror's files (a couple of seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from talentflow.resolve.domains import WEBMAIL


@dataclass
class Pools:
    """Arrow tables the generator indexes into (row order = index).

    ``institutions``: idx, domain, display_name, country_code, type, weight (real slot count),
    ordered by country then weight (so one country's institutions are a contiguous range).
    ``variants``: vidx, inst_idx, raw (an affiliation string), weight; ordered by inst_idx.
    ``first_names`` / ``last_names``: idx, name.
    """

    institutions: pa.Table
    variants: pa.Table
    first_names: pa.Table
    last_names: pa.Table


_AUTHOR_FILES = ("paperlists/*/*.json", "openreview/*/*.json")


def _globs(data_dir: Path) -> list[str]:
    return [str(data_dir / g) for g in _AUTHOR_FILES if list(data_dir.glob(g))]


def load_pools(data_dir: str | Path, *, min_domain_count: int = 1) -> Pools:
    """Read the real data mirror under ``data_dir`` into the generator's pools.

    Parameters
    ----------
    data_dir
        The mirror (``../shared/data``) holding ``paperlists/`` and/or ``openreview/``.
    min_domain_count
        Keep institutions seen at least this many times.
    """
    data_dir = Path(data_dir)
    globs = _globs(data_dir)
    if not globs:
        raise FileNotFoundError(f"no paperlists/ or openreview/ files under {data_dir}")
    con = duckdb.connect()
    # one thread: ties in mode() and row order must not depend on scheduling (seeded output)
    con.execute("SET threads = 1")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        """
        CREATE TEMP TABLE raw AS
        SELECT aff, aff_domain, author
        FROM read_json(?, columns={aff: 'VARCHAR', aff_domain: 'VARCHAR', author: 'VARCHAR'},
                       format='array', union_by_name=true, ignore_errors=true)
        WHERE aff IS NOT NULL AND aff <> '' AND author IS NOT NULL
        """,
        [globs],
    )
    # Only papers whose per-author lists align, so a string and its domain belong together.
    con.execute(
        """
        CREATE TEMP TABLE pairs AS
        WITH s AS (
            SELECT string_split(aff, ';') AS a, string_split(coalesce(aff_domain, ''), ';') AS d,
                   string_split(author, ';') AS n
            FROM raw
        ), u AS (
            SELECT trim(unnest(a)) AS raw, lower(trim(unnest(d))) AS domain, unnest(n) AS name
            FROM s WHERE len(a) = len(d) AND len(a) = len(n)
        )
        SELECT raw, domain, name FROM u
        WHERE raw <> '' AND domain <> '' AND domain LIKE '%.%' AND raw NOT LIKE '%+%'
          AND domain NOT IN (SELECT unnest(?::VARCHAR[]))
        """,
        [sorted(WEBMAIL)],  # mail providers, not institutions
    )
    _registries(con, data_dir)
    con.execute(
        f"""
        CREATE TEMP TABLE inst AS
        WITH d AS (
            SELECT domain, count(*) AS weight, mode(raw) AS display_name
            FROM pairs GROUP BY domain HAVING count(*) >= {int(min_domain_count)}
        ), c AS (
            SELECT d.*,
                   coalesce(u.cc, r.cc, t.cc,
                            CASE WHEN d.domain LIKE '%.edu' OR d.domain LIKE '%.gov' THEN 'US' END)
                       AS country_code,
                   coalesce(r.type,
                            CASE WHEN u.cc IS NOT NULL OR d.domain LIKE '%.edu%'
                                      OR d.domain LIKE '%.ac.%' THEN 'education'
                                 WHEN d.domain LIKE '%.com' OR d.domain LIKE '%.com.%'
                                      OR d.domain LIKE '%.ai' THEN 'company'
                                 WHEN d.domain LIKE '%.gov%' THEN 'government'
                                 ELSE 'other' END) AS type
            FROM d
            LEFT JOIN uni u ON u.domain = d.domain
            LEFT JOIN ror r ON r.name = lower(d.display_name)
            LEFT JOIN tld t ON t.tld = regexp_extract(d.domain, '\\.([a-z]+)$', 1)
        )
        SELECT (row_number() OVER (ORDER BY coalesce(country_code, '~'), weight DESC, domain) - 1)
                   ::BIGINT AS idx,
               domain, display_name, country_code, type, weight
        FROM c ORDER BY idx
        """
    )
    institutions = con.execute("SELECT * FROM inst ORDER BY idx").to_arrow_table()
    variants = con.execute(
        """
        SELECT (row_number() OVER (ORDER BY i.idx, count(*) DESC, p.raw) - 1)::BIGINT AS vidx,
               i.idx AS inst_idx, p.raw, count(*) AS weight
        FROM pairs p JOIN inst i USING (domain)
        GROUP BY i.idx, p.raw ORDER BY vidx
        """
    ).to_arrow_table()
    names = {}
    for part, expr in (("first", "name[1]"), ("last", "name[-1]")):
        names[part] = con.execute(
            f"""
            WITH t AS (SELECT string_split(trim(name), ' ') AS name FROM pairs)
            SELECT (row_number() OVER (ORDER BY n) - 1)::BIGINT AS idx, n AS name
            FROM (SELECT DISTINCT {expr} AS n FROM t WHERE len(name) >= 2)
            WHERE length(n) >= 2 AND regexp_matches(n, '^[^0-9~()]+$')
            ORDER BY idx
            """
        ).to_arrow_table()
    con.close()
    return Pools(institutions, variants, names["first"], names["last"])


def _registries(con: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """Lookup tables ``uni(domain, cc)``, ``ror(name, cc, type)``, ``tld(tld, cc)``."""
    reg = data_dir / "registries"
    uni = reg / "university-domains" / "world_universities_and_domains.json"
    if uni.exists():
        con.execute(
            """
            CREATE TEMP TABLE uni AS
            SELECT lower(d) AS domain, min(alpha_two_code) AS cc FROM (
                SELECT unnest(domains) AS d, alpha_two_code
                FROM read_json(?, columns={domains: 'VARCHAR[]', alpha_two_code: 'VARCHAR'},
                               format='array'))
            GROUP BY 1
            """,
            [str(uni)],
        )
    else:
        con.execute("CREATE TEMP TABLE uni (domain VARCHAR, cc VARCHAR)")
    ror = sorted((reg / "ror-parser").glob("*.json")) if (reg / "ror-parser").exists() else []
    if ror:
        con.execute(
            """
            CREATE TEMP TABLE ror AS
            SELECT lower(name) AS name, min(country_code) AS cc, min(lower(types[1])) AS type
            FROM read_json(?, columns={name: 'VARCHAR', country_code: 'VARCHAR',
                                       types: 'VARCHAR[]'}, format='array')
            GROUP BY 1
            """,
            [[str(p) for p in ror]],
        )
    else:
        con.execute("CREATE TEMP TABLE ror (name VARCHAR, cc VARCHAR, type VARCHAR)")
    cc = reg / "country-codes" / "country-codes.csv"
    if cc.exists():
        con.execute(
            """
            CREATE TEMP TABLE tld AS
            SELECT DISTINCT ltrim(lower("TLD"), '.') AS tld, "ISO3166-1-Alpha-2" AS cc
            FROM read_csv(?, all_varchar=true)
            WHERE "TLD" IS NOT NULL AND "ISO3166-1-Alpha-2" IS NOT NULL
            """,
            [str(cc)],
        )
    else:
        con.execute("CREATE TEMP TABLE tld (tld VARCHAR, cc VARCHAR)")


def country_ranges(institutions: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(country_id per institution, range start per country, range end per country)``.

    Institutions are ordered by country, so each country is one contiguous index range.
    """
    cc = institutions.column("country_code").to_numpy(zero_copy_only=False)
    keys = np.array(["~" if c is None else str(c) for c in cc])
    change = np.r_[True, keys[1:] != keys[:-1]]
    country_id = np.cumsum(change) - 1
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], len(keys)]
    return country_id, starts, ends
