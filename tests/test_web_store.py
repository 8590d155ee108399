"""A small store with every table the web surfaces read (columns as in docs/tables.md).

Other ``test_web_*`` modules import :func:`make_store` from here; the tests below check that the
read-only query module sees what was written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from talentflow.engines import connect
from talentflow.web.queries import Queries

# Ibis 12 calls DuckDB 1.5's deprecated ``fetch_arrow_table`` on every query.
pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")

COUNTRIES = ["CN", "US", "GB", "DE", "CA", "FR", "IN", "JP"]
YEARS = list(range(2012, 2024))
SECTORS = ["academia", "industry"]
INSTITUTIONS = {
    "CN": ["Tsinghua University", "Peking University"],
    "US": ["Stanford University", "Google"],
    "GB": ["University of Oxford", "DeepMind"],
    "DE": ["TU Munich", "Max Planck Institute"],
    "CA": ["University of Toronto", "Mila"],
    "FR": ["Inria", "Meta Paris"],
    "IN": ["IIT Delhi", "Microsoft Research India"],
    "JP": ["University of Tokyo", "RIKEN"],
}
MEASURES = [
    "stock",
    "stock_frac",
    "stock_share",
    "inflow",
    "outflow",
    "net_flow",
    "inflow_rate",
    "outflow_rate",
    "net_rate",
    "returns",
]


def _with_ci(df: pd.DataFrame, col: str, rng: np.random.Generator, prefix: str = "") -> None:
    spread = np.abs(df[col].to_numpy(dtype=float)) * rng.uniform(0.05, 0.2, len(df)) + 0.01
    df[f"{prefix}ci_low"] = df[col] - spread
    df[f"{prefix}ci_high"] = df[col] + spread


def _country_year(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    base = {c: 50 + 40 * i for i, c in enumerate(reversed(COUNTRIES))}
    for subset in ("all", "llm"):
        for sector in ("all", *SECTORS):
            for year in YEARS:
                stocks = {
                    c: base[c] * (1 + 0.08 * (year - YEARS[0])) * rng.uniform(0.8, 1.2)
                    for c in COUNTRIES
                }
                if subset == "llm":
                    stocks = {c: v * 0.2 for c, v in stocks.items()}
                if sector != "all":
                    stocks = {
                        c: v * (0.6 if sector == "academia" else 0.4) for c, v in stocks.items()
                    }
                total = sum(stocks.values())
                for c in COUNTRIES:
                    stock = round(stocks[c])
                    inflow = int(rng.integers(0, max(2, stock // 8)))
                    outflow = int(rng.integers(0, max(2, stock // 8)))
                    rows.append(
                        {
                            "country": c,
                            "year": year,
                            "subset": subset,
                            "sector": sector,
                            "stock": float(stock),
                            "stock_frac": stocks[c] * 0.9,
                            "stock_share": stocks[c] / total,
                            "inflow": float(inflow),
                            "outflow": float(outflow),
                            "net_flow": float(inflow - outflow),
                            "inflow_rate": 1000 * inflow / max(stock, 1),
                            "outflow_rate": 1000 * outflow / max(stock, 1),
                            "net_rate": 1000 * (inflow - outflow) / max(stock, 1),
                            "returns": float(rng.integers(0, 6)),
                            "suppressed": stock < 5,
                        }
                    )
    df = pd.DataFrame(rows)
    for m in MEASURES:
        _with_ci(df, m, rng, prefix=f"{m}_")
    return df


def _flows(rng: np.random.Generator) -> pd.DataFrame:
    rows = [
        {
            "from_country": a,
            "to_country": b,
            "year": y,
            "subset": s,
            "n": float(rng.integers(0, 30 if {a, b} == {"CN", "US"} else 10)),
            "suppressed": False,
        }
        for s in ("all", "llm")
        for y in YEARS
        for a in COUNTRIES
        for b in COUNTRIES
        if a != b
    ]
    df = pd.DataFrame(rows)
    # Pooled over all years: year NULL (as the indicators stage writes it).
    pooled = df.groupby(["from_country", "to_country", "subset"], as_index=False)["n"].sum()
    df = pd.concat([df, pooled.assign(year=None, suppressed=False)], ignore_index=True)
    df["year"] = df["year"].astype("Int64")
    _with_ci(df, "n", rng)
    return df


def _retention(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for c in COUNTRIES:
        for basis in ("first_observed", "training"):
            for cohort in [*YEARS[:-1], None]:  # None: all cohorts pooled
                share = 1.0
                for k in range(1, min(10, YEARS[-1] - (cohort or YEARS[0])) + 1):
                    share *= rng.uniform(0.9, 0.99)
                    rows.append(
                        {
                            "country": c,
                            "cohort_year": cohort,
                            "basis": basis,
                            "subset": "all",
                            "k": k,
                            "at_risk": int(rng.integers(20, 200)),
                            "retained_share": share,
                            "suppressed": False,
                        }
                    )
    df = pd.DataFrame(rows)
    df["cohort_year"] = df["cohort_year"].astype("Int64")
    _with_ci(df, "retained_share", rng)
    return df


def _returns(rng: np.random.Generator) -> pd.DataFrame:
    rows = [
        {
            "country": c,
            "subset": "all",
            "k": k,
            "at_risk": int(rng.integers(10, 100)),
            "return_share": min(1.0, 0.03 * k * rng.uniform(0.5, 1.5)),
            "suppressed": False,
        }
        for c in COUNTRIES
        for k in range(1, 11)
    ]
    df = pd.DataFrame(rows)
    _with_ci(df, "return_share", rng)
    return df


def _origin_work(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    origins = [*COUNTRIES, None]  # None: origin unknown
    for pop in ("nips2021", "iclr2021"):
        for basis in ("first_observed", "training"):
            cells = {
                (o, w): float(rng.integers(0, 40 if o == w else 8))
                for o in origins
                for w in COUNTRIES
            }
            total = sum(cells.values())
            for w in COUNTRIES:  # the margin over all origins, as the stage writes it
                cells[("ALL", w)] = sum(v for (o, ww), v in cells.items() if ww == w)
            for (o, w), n in cells.items():
                rows.append(
                    {
                        "population": pop,
                        "subset": "all",
                        "origin_basis": basis,
                        "origin_country": o,
                        "work_country": w,
                        "n": n,
                        "share": n / total,
                        "suppressed": False,
                    }
                )
    df = pd.DataFrame(rows)
    _with_ci(df, "n", rng, prefix="n_")
    _with_ci(df, "share", rng)
    return df


#: The test store's last year is incomplete (as a build's partial current year is), and the
#: venues change between 2015 and 2016.
INCOMPLETE_YEAR = YEARS[-1]
COVERAGE_CHANGE_YEAR = 2016


def _coverage() -> pd.DataFrame:
    """``coverage`` rows (``venue = 'all'`` per year, as the indicators stage writes them)."""
    rows = []
    for y in YEARS:
        papers = 100 + 10 * (y - YEARS[0])
        if y == INCOMPLETE_YEAR:
            papers = 30
        rows.append(
            {
                "venue": "all",
                "year": y,
                "n_venues": 2,
                "papers": papers,
                "population_papers": papers,
                "complete": y != INCOMPLETE_YEAR,
                "overlap_prev": None
                if y == YEARS[0]
                else (0.5 if y == COVERAGE_CHANGE_YEAR else 1.0),
                "overlap_next": None
                if y == YEARS[-1]
                else (0.3 if y + 1 == INCOMPLETE_YEAR else 1.0),
            }
        )
    df = pd.DataFrame(rows)
    for col in ("overlap_prev", "overlap_next"):
        df[col] = df[col].astype(float)
    return df


def _with_llm_subset(origin_work: pd.DataFrame) -> pd.DataFrame:
    """``origin_work`` plus an ``llm`` subset (half of each cell), so pages offer a subset."""
    llm = origin_work[origin_work["subset"] == "all"].assign(subset="llm")
    for col in [c for c in llm.columns if c == "n" or c.startswith(("n_", "share", "ci_"))]:
        llm[col] = np.floor(llm[col] / 2) if col.startswith("n") else llm[col] / 2
    return pd.concat([origin_work, llm], ignore_index=True)


def _pooled(origin_work: pd.DataFrame) -> pd.DataFrame:
    """Pooled and later populations (``nips2020-2022``, ``nips2023``) with origin shares."""
    base = origin_work[origin_work["population"] == "nips2021"]
    out = pd.concat(
        [origin_work, base.assign(population="nips2020-2022"), base.assign(population="nips2023")],
        ignore_index=True,
    )
    known = out[out["origin_country"].notna() & (out["origin_country"] != "ALL")]
    by_origin = known.groupby(["population", "origin_basis", "origin_country"])["n"].transform(
        "sum"
    )
    out["origin_share"] = np.nan
    out.loc[known.index, "origin_share"] = known["n"] / by_origin.replace(0, np.nan)
    out["origin_share_ci_low"] = (out["origin_share"] - 0.02).clip(lower=0)
    out["origin_share_ci_high"] = (out["origin_share"] + 0.02).clip(upper=1)
    unknown = out[out["origin_country"].isna()].groupby(["population", "origin_basis"])["n"].sum()
    total = out[out["origin_country"] == "ALL"].groupby(["population", "origin_basis"])["n"].sum()
    share = (unknown / total).rename("unknown_origin_share").reset_index()
    return out.merge(share, on=["population", "origin_basis"], how="left")


def _sector_flows(rng: np.random.Generator) -> pd.DataFrame:
    rows = [
        {
            "country": c,
            "year": y,
            "from_sector": a,
            "to_sector": b,
            "domestic": domestic,
            "subset": "all",
            "n": float(rng.integers(0, 12)),
            "suppressed": False,
        }
        for c in COUNTRIES
        for y in YEARS
        for a in SECTORS
        for b in SECTORS
        for domestic in (True, False)
        if a != b
    ]
    df = pd.DataFrame(rows)
    _with_ci(df, "n", rng)
    return df


def _people(rng: np.random.Generator, n_persons: int = 40) -> dict[str, pd.DataFrame]:
    persons, profiles, years, events, auths, papers = [], [], [], [], [], []
    names = ["Li Wei", "Maria Garcia", "John Smith", "Anna Müller", "Ravi Kumar", "Yuki Sato"]
    for i in range(n_persons):
        pid = f"P{i:05d}"
        first = int(rng.integers(YEARS[0], YEARS[-1] - 3))
        last = int(rng.integers(first + 2, YEARS[-1] + 1))
        home = COUNTRIES[i % len(COUNTRIES)]
        away = COUNTRIES[(i + 1) % len(COUNTRIES)]
        move_year = first + 2 if i % 3 == 0 else None
        persons.append(
            {
                "person_id": pid,
                "display_name": f"{names[i % len(names)]} {i}",
                # a hashed e-mail identifier, as identity writes them (never shown on pages)
                "known_ids": [f"openreview:~Person{i}1", f"email:{i:02d}" + "ab" * 31],
                "first_year": first,
                "last_year": last,
                "n_papers": last - first + 1,
                "n_authorships": last - first + 1,
            }
        )
        for y in range(first, last + 1):
            country = away if move_year is not None and y >= move_year else home
            inst = INSTITUTIONS[country][i % 2]
            years.append(
                {
                    "person_id": pid,
                    "year": y,
                    "n_papers": 1,
                    "institution": inst,
                    "country": country,
                    "sector": "education" if i % 2 == 0 else "company",
                    "career_stage": "student" if y - first < 2 else "faculty",
                    "secondary_institutions": [],
                    "secondary_countries": [],
                    "observed": True,
                }
            )
            paper_id = f"paperlists:nips{y}:{i}"
            papers.append(
                {
                    "paper_id": paper_id,
                    "title": f"A study of things {i}-{y}",
                    "venue": "nips" if y % 2 else "iclr",
                    "year": y,
                    "n_authors": 1,
                    "status": "Poster",
                }
            )
            auths.append(
                {
                    "authorship_id": f"{paper_id}#0",
                    "paper_id": paper_id,
                    "venue": papers[-1]["venue"],
                    "year": y,
                    "author_position": 0,
                    "author_name": persons[-1]["display_name"],
                    "raw_affiliation": inst,
                    "institution": inst,
                    "country": country,
                    "sector": years[-1]["sector"],
                    "person_id": pid,
                }
            )
        if move_year is not None:
            # the same move at institution level (as the careers stage writes both levels)
            events.append(
                {
                    "event_id": f"E{i}i",
                    "person_id": pid,
                    "year": move_year,
                    "level": "institution",
                    "kind": "migration",
                    "from_country": home,
                    "to_country": away,
                    "from_institution": INSTITUTIONS[home][i % 2],
                    "to_institution": INSTITUTIONS[away][i % 2],
                    "from_sector": "education",
                    "to_sector": "education",
                    "flags": [],
                }
            )
            events.append(
                {
                    "event_id": f"E{i}",
                    "person_id": pid,
                    "year": move_year,
                    "level": "country",
                    "kind": "migration",
                    "from_country": home,
                    "to_country": away,
                    "from_institution": INSTITUTIONS[home][i % 2],
                    "to_institution": INSTITUTIONS[away][i % 2],
                    "from_sector": "education",
                    "to_sector": "education",
                    "flags": ["censored_right"] if last == YEARS[-1] else [],
                }
            )
        profiles.append(
            {
                "person_id": pid,
                "first_year": first,
                "last_year": last,
                "first_country": home,
                "training_country": home if i % 2 == 0 else None,
                "current_country": away if move_year is not None else home,
                "n_international_moves": 1 if move_year is not None else 0,
                "typology": "migrant" if move_year is not None else "stayer",
                "first_sector": "education",
                "current_sector": "education",
            }
        )
    subfields = pd.DataFrame(
        {
            "paper_id": [p["paper_id"] for p in papers],
            # LLM papers from 2020 on, except those of every third person: the authors of
            # LLM papers are a strict part of a population's authors
            "subfield": [
                "llm"
                if p["year"] >= 2020 and int(p["paper_id"].rsplit(":", 1)[1]) % 3
                else "other_ml"
                for p in papers
            ],
            "is_llm_era": [p["year"] >= 2020 for p in papers],
            "rule": ["keyword" for _ in papers],
        }
    )
    return {
        "persons": pd.DataFrame(persons),
        "person_profile": pd.DataFrame(profiles),
        "person_years": pd.DataFrame(years),
        "events": pd.DataFrame(events),
        "authorships": pd.DataFrame(auths),
        "papers": pd.DataFrame(papers),
        "paper_subfields": subfields,
    }


def _typed(table: pa.Table) -> pa.Table:
    """Give all-null and empty-list columns a string type (Arrow infers ``null``)."""
    fields = []
    for field in table.schema:
        typed = field
        if pa.types.is_null(field.type):
            typed = field.with_type(pa.string())
        elif pa.types.is_list(field.type) and pa.types.is_null(field.type.value_type):
            typed = field.with_type(pa.list_(pa.string()))
        fields.append(typed)
    return table.cast(pa.schema(fields))


def make_store(path: Path, seed: int = 7, n_persons: int = 40, *, coverage: bool = True) -> Path:
    """Write a small store with every table the web app reads; return its path.

    ``coverage=False`` leaves out the ``coverage`` table (a store built before it existed) and
    the pooled populations.
    """
    rng = np.random.default_rng(seed)
    tables: dict[str, pd.DataFrame] = {
        "country_year": _country_year(rng),
        "flows": _flows(rng),
        "retention": _retention(rng),
        "returns": _returns(rng),
        "origin_work": _origin_work(rng),
        "sector_flows": _sector_flows(rng),
        **_people(rng, n_persons),
        "ingest_log": pd.DataFrame(
            {
                "file": ["paperlists/nips/nips2021.json", "openreview/iclr/iclr2021.json"],
                "source": ["paperlists", "openreview"],
                "size": [1000, 2000],
                "sha256": ["a" * 64, "b" * 64],
                "records_read": [100, 200],
                "records_kept": [99, 200],
                "records_quarantined": [1, 0],
                "ingested_at": ["2026-11-29T10:00:00", "2026-11-29T10:00:01"],
                "status": ["partial", "ok"],
                "message": ["1 record without authors", ""],
            }
        ),
        "build_params": pd.DataFrame(
            {
                "stage": ["careers", "indicators", "indicators"],
                "name": ["backfill", "min_cell", "bootstrap"],
                "value": [json.dumps(2), json.dumps(5), json.dumps(200)],
            }
        ),
        "build_info": pd.DataFrame(
            {
                "key": ["talentflow_version", "engine", "started", "finished"],
                "value": ["0.1.0", "duckdb", "2026-11-29T10:00:00", "2026-11-29T10:01:00"],
            }
        ),
    }
    if coverage:
        tables["coverage"] = _coverage()
        tables["origin_work"] = _pooled(tables["origin_work"])
    tables["origin_work"] = _with_llm_subset(tables["origin_work"])
    con = connect(path)
    for name, df in tables.items():
        # Through Arrow: Ibis' pandas inference warns under pandas 3.
        con.create_table(name, _typed(pa.Table.from_pandas(df, preserve_index=False)))
    con.disconnect()
    return path


_BUILT: dict[str, Path] = {}


def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store per test session, shared by the web test modules (they only read it)."""
    if "store" not in _BUILT:
        _BUILT["store"] = make_store(tmp_path_factory.mktemp("web-store") / "store.duckdb")
    return _BUILT["store"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_store(tmp_path_factory)


def test_queries_read_the_store_read_only(store_path: Path) -> None:
    q = Queries(store_path)
    try:
        assert set(q.countries()) == set(COUNTRIES)
        assert q.year_range() == (YEARS[0], YEARS[-1])
        with pytest.raises(Exception, match=r"(?i)read.only"):
            q.con.raw_sql("CREATE TABLE x (a INT)")
    finally:
        q.close()


def test_country_series_matches_written_rows(store_path: Path) -> None:
    q = Queries(store_path)
    try:
        df = q.country_series("CN", 2015, 2018, measure="stock_share")
        assert list(df["year"]) == [2015, 2016, 2017, 2018]
        assert (df["ci_low"] <= df["value"]).all()
        assert (df["value"] <= df["ci_high"]).all()
    finally:
        q.close()


def make_scenario_store(path: Path, n_persons: int = 1500, seed: int = 3) -> Path:
    """The small store plus careers tables rich enough to fit the scenario model.

    ``person_years`` and ``events`` are replaced by synthetic careers of the same eight
    countries (the scenarios package's generator), so the move model has moves to fit.
    """
    from talentflow.scenarios.synthetic import synthetic_careers

    make_store(path)
    py, ev = synthetic_careers(n_persons, seed=seed, start_year=YEARS[0] - 6, end_year=YEARS[-1])
    py = py.assign(
        n_papers=1,
        institution=None,
        secondary_institutions=[[] for _ in range(len(py))],
        secondary_countries=[[] for _ in range(len(py))],
        observed=True,
    )
    ev = ev.assign(
        event_id=[f"SE{i}" for i in range(len(ev))],
        from_institution=None,
        to_institution=None,
        from_sector=None,
        to_sector=None,
        flags=[[] for _ in range(len(ev))],
    )
    con = connect(path)
    for name, df in (("person_years", py), ("events", ev)):
        con.create_table(
            name, _typed(pa.Table.from_pandas(df, preserve_index=False)), overwrite=True
        )
    con.disconnect()
    return path


def scenario_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scenario-ready store per test session (read-only for the tests)."""
    if "scenario" not in _BUILT:
        _BUILT["scenario"] = make_scenario_store(
            tmp_path_factory.mktemp("web-scenario-store") / "store.duckdb"
        )
    return _BUILT["scenario"]
