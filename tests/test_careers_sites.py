"""Multinational sites in careers: a headquarters fallback never becomes a move.

Careers are built in code from raw affiliation strings resolved by the real resolver (with the
curated labs and site tables only), so the test covers resolve and careers together.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams
from talentflow.resolve.builder import build_gazetteer
from talentflow.resolve.normalize import normalize
from talentflow.resolve.resolver import Resolver

MSRA = "Microsoft Research Asia, Beijing, China"
BARE = "Microsoft"
REDMOND = "Microsoft Research, Redmond, WA, USA"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(build_gazetteer(None))


def rows(resolver: Resolver, person: str, plan: dict[int, list[str]]) -> list[dict[str, Any]]:
    """Author slots of one person: year -> raw affiliation strings (one paper each)."""
    out = []
    for year, affs in plan.items():
        for k, aff in enumerate(affs):
            out.append(_slot(resolver.resolve(aff, "microsoft.com"), person, year, f"{year}:{k}"))
    return out


def _slot(r: Any, person: str, year: int, paper: str) -> dict[str, Any]:
    """The careers columns of one author slot resolved as ``r``."""
    return {
        "paper_id": f"{person}:{paper}",
        "year": year,
        "person_id": person,
        "institution": r.institution,
        "country": r.country,
        "sector": r.sector,
        "career_position": None,
        "hq_fallback": r.hq_fallback,
    }


#: The authorships columns the careers stage reads (``other_parts`` is optional).
SCHEMA = {
    "paper_id": "string",
    "year": "int64",
    "person_id": "string",
    "institution": "string",
    "country": "string",
    "sector": "string",
    "career_position": "string",
    "hq_fallback": "boolean",
}


def build(frame: pd.DataFrame, schema: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The careers tables of an authorships frame built in code (DuckDB)."""
    con = ibis.duckdb.connect()
    con.create_table("authorships", ibis.memtable(frame, schema=schema))
    tables = build_careers(con, con.table("authorships"), CareerParams())
    return {name: expr.to_pandas() for name, expr in tables.items()}


def careers(data: list[dict[str, Any]], *, honour_fallback: bool = True) -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(data)
    if not honour_fallback:  # what the pipeline did before the flag existed
        frame["hq_fallback"] = False
    return build(frame, SCHEMA)


def country_events(out: dict[str, pd.DataFrame], person: str) -> list[tuple[str, int, str, str]]:
    ev = out["events"]
    ev = ev[(ev.level == "country") & (ev.person_id == person)].sort_values("year")
    return [(r.kind, int(r.year), r.from_country, r.to_country) for r in ev.itertuples()]


def test_bare_company_name_is_a_marked_headquarters_fallback(resolver: Resolver):
    bare = resolver.resolve(BARE, "microsoft.com")
    assert (bare.country, bare.method, bare.hq_fallback) == ("US", "hq-fallback", True)
    assert bare.confidence < 0.9
    only_domain = resolver.resolve("", "microsoft.com")
    assert only_domain.hq_fallback and only_domain.country == "US"
    for text, country in ((MSRA, "CN"), (REDMOND, "US"), ("Microsoft, Cambridge, UK", "GB")):
        r = resolver.resolve(text, "microsoft.com")
        assert (r.institution, r.country, r.hq_fallback) == ("Microsoft", country, False), text
    # a company without sites abroad is no fallback
    assert not resolver.resolve("Anthropic").hq_fallback


@pytest.mark.parametrize(
    ("text", "country", "institution"),
    [
        (
            "The Chinese University of Hong Kong, Shenzhen",
            "CN",
            "The Chinese University of Hong Kong",
        ),
        ("CUHK-Shenzhen", "CN", "The Chinese University of Hong Kong"),
        ("HKUST (Guangzhou)", "CN", "The Hong Kong University of Science and Technology"),
        ("NYU Shanghai", "CN", "New York University"),
        ("New York University, Shanghai", "CN", "New York University"),
        ("University of Nottingham Ningbo China", "CN", "University of Nottingham"),
        ("Huawei Noah's Ark Lab, Montreal", "CA", "Huawei"),
        ("Samsung AI Center Toronto", "CA", "Samsung"),
        ("Futurewei Technologies", "US", "Huawei"),
    ],
)
def test_sites_and_campuses_abroad(resolver: Resolver, text: str, country: str, institution: str):
    r = resolver.resolve(text)
    assert (r.country, r.hq_fallback) == (country, False)
    assert normalize(r.institution or "") == normalize(institution)  # "The" is dropped


def test_stayer_at_msra_writing_only_microsoft_sometimes_shows_no_move(resolver: Resolver):
    plan = {
        2014: [MSRA, MSRA],
        2015: [MSRA, BARE],
        2016: [BARE, BARE],
        2017: [BARE, BARE],
        2018: [BARE],
        2019: [MSRA, BARE],
    }
    data = rows(resolver, "stayer", plan)
    out = careers(data)
    assert country_events(out, "stayer") == []
    py = out["person_years"].set_index("year")
    assert set(py.country) == {"CN"}
    # Without the rule the same papers make a China -> US migration and a return.
    before = country_events(careers(data, honour_fallback=False), "stayer")
    assert [(k, f, t) for k, _y, f, t in before] == [
        ("migration", "CN", "US"),
        ("return", "US", "CN"),
    ]


def test_msra_to_redmond_mover_shows_one_move(resolver: Resolver):
    plan = {
        2014: [MSRA],
        2015: [MSRA, BARE],
        2016: [BARE],
        2017: [MSRA],
        2018: [REDMOND],
        2019: [REDMOND, BARE],
        2020: [BARE],
        2021: [REDMOND],
    }
    out = careers(rows(resolver, "mover", plan))
    assert country_events(out, "mover") == [("migration", 2018, "CN", "US")]
    py = out["person_years"].set_index("year")
    assert py.loc[2016, "country"] == "CN" and py.loc[2020, "country"] == "US"
    inst = out["events"][(out["events"].level == "institution")]
    assert inst.empty  # one organisation throughout


def test_only_bare_name_keeps_the_headquarters(resolver: Resolver):
    out = careers(rows(resolver, "hq", {2016: [BARE], 2017: [BARE], 2018: [BARE]}))
    assert country_events(out, "hq") == []
    assert set(out["person_years"].country) == {"US"}


TSINGHUA = "Tsinghua University, Beijing, China"
TUM = "Technical University of Munich, Germany"


def _slots(resolver: Resolver, person: str, plan: dict[int, str]) -> list[dict[str, Any]]:
    """One paper a year, resolved from the string alone (no e-mail domain)."""
    return [_slot(resolver.resolve(aff), person, year, str(year)) for year, aff in plan.items()]


def _msra_staff(resolver: Resolver, n: int) -> list[dict[str, Any]]:
    """People who came from Tsinghua, named Microsoft Research Asia, then wrote "Microsoft":
    they show that Microsoft, for people coming from China, is Microsoft Research Asia."""
    plan = {2015: TSINGHUA, 2016: MSRA, 2017: BARE}
    return [s for i in range(n) for s in _slots(resolver, f"msra{i}", plan)]


def test_a_new_organisation_named_bare_keeps_the_persons_country_where_it_has_a_site(
    resolver: Resolver,
):
    """Tsinghua, then only "Microsoft", then Tsinghua: with five people from China who named
    Microsoft Research Asia (Microsoft qualifies, and is seen in China), the bare years stay
    in China (no migration and return); from Munich, where nobody is seen at Microsoft, the
    headquarters stays and the move shows; with four such people, Microsoft does not
    qualify."""
    plan = {2015: TSINGHUA, 2016: TSINGHUA, 2017: BARE, 2018: BARE, 2019: TSINGHUA}
    staff = _msra_staff(resolver, 5)
    out = careers(staff + _slots(resolver, "cn", plan))
    assert country_events(out, "cn") == []
    py = out["person_years"].set_index(["person_id", "year"])
    assert py.loc[("cn", 2017), "country"] == "CN"
    inst = out["events"][(out["events"].level == "institution") & (out["events"].person_id == "cn")]
    assert len(inst) == 2  # Tsinghua -> Microsoft -> Tsinghua stays visible
    de = {2015: TUM, 2016: TUM, 2017: BARE, 2018: BARE, 2019: BARE}
    out = careers(staff + _slots(resolver, "de", de))
    assert [(k, f, t) for k, _y, f, t in country_events(out, "de")] == [("migration", "DE", "US")]
    # Too few other people seen at Microsoft in China: the headquarters stays.
    out = careers(_msra_staff(resolver, 4) + _slots(resolver, "cn", plan))
    assert [(k, f, t) for k, _y, f, t in country_events(out, "cn")] == [
        ("migration", "CN", "US"),
        ("return", "US", "CN"),
    ]


def test_a_universitys_bare_name_stays_its_main_campus(resolver: Resolver):
    """From Tsinghua to "The Chinese University of Hong Kong": Hong Kong, even with CUHK
    Shenzhen seen by five other people (a campus abroad is not where the bare name points)."""
    shenzhen = "The Chinese University of Hong Kong, Shenzhen"
    staff = [
        s for i in range(5) for s in _slots(resolver, f"sz{i}", {2016: shenzhen, 2017: shenzhen})
    ]
    cuhk = "The Chinese University of Hong Kong"
    assert resolver.resolve(cuhk).hq_fallback
    plan = {2015: TSINGHUA, 2016: TSINGHUA, 2017: cuhk, 2018: cuhk, 2019: cuhk}
    out = careers(staff + _slots(resolver, "hk", plan))
    assert [(k, f, t) for k, _y, f, t in country_events(out, "hk")] == [("migration", "CN", "HK")]


def test_a_stay_named_bare_takes_one_country_from_where_it_starts(resolver: Resolver):
    """Munich, then only "Microsoft" for four years, then Beijing: the whole stay takes the
    country it starts from (people from Germany named Microsoft's Berlin lab), so there is one
    move, at Beijing, and no move inside Microsoft halfway through."""
    berlin = "Microsoft Research, Berlin, Germany"
    staff = [
        s
        for i in range(5)
        for s in _slots(resolver, f"de{i}", {2015: TUM, 2016: berlin, 2017: BARE})
    ]
    plan = {2014: TUM, 2015: BARE, 2016: BARE, 2017: BARE, 2018: BARE, 2019: TSINGHUA}
    out = careers(staff + _slots(resolver, "p", plan))
    assert [(k, y, f, t) for k, y, f, t in country_events(out, "p")] == [
        ("migration", 2019, "DE", "CN")
    ]


def _carried_on(con: Any, data: list[dict[str, Any]], name: str) -> list[tuple]:
    from talentflow.careers.person_years import carry_site_country

    con.create_table(name, ibis.memtable(pd.DataFrame(data), schema=SCHEMA), overwrite=True)
    got = carry_site_country(con.table(name)).to_pandas()
    cols = ["person_id", "year", "institution", "country"]
    return sorted(map(tuple, got[cols].astype(str).to_numpy().tolist()))


@pytest.mark.spark
def test_carried_countries_agree_on_duckdb_and_spark(resolver: Resolver, spark_session_shared):
    staff = _msra_staff(resolver, 5)
    plan = {2015: TSINGHUA, 2016: TSINGHUA, 2017: BARE, 2018: BARE, 2019: TSINGHUA}
    data = (
        staff
        + _slots(resolver, "cn", plan)
        + rows(resolver, "stayer", {2014: [MSRA], 2015: [BARE]})
    )
    on_duckdb = _carried_on(ibis.duckdb.connect(), data, "carry_obs")
    assert ("cn", "2017", "Microsoft", "CN") in on_duckdb
    assert ("stayer", "2015", "Microsoft", "CN") in on_duckdb
    spark = ibis.pyspark.connect(spark_session_shared)
    assert _carried_on(spark, data, "carry_obs_parity") == on_duckdb


def test_the_fallback_evaluation_scores_a_revealed_site(resolver: Resolver):
    """A person who names Microsoft Research Asia once and writes "Microsoft" the next year
    is the truth: hidden, the headquarters guesses the US, the rule (from Tsinghua, Microsoft
    seen in China by five others) China."""
    from talentflow.careers.fallback_eval import evaluate

    staff = _msra_staff(resolver, 24)  # both halves of the people hold five or more
    person = _slots(resolver, "p", {2013: TSINGHUA, 2014: MSRA, 2015: BARE, 2016: BARE})
    con = ibis.duckdb.connect()
    con.create_table("a", ibis.memtable(pd.DataFrame(staff + person), schema=SCHEMA))
    rows = {r["half"]: r for r in evaluate(con.table("a"))}
    # every person reveals: staff's bare 2017 slots and p's 2015-16 ones (truth: China)
    assert sum(r["slots"] for r in rows.values()) == 24 + 2
    assert all(r["headquarters"] == 0.0 and r["rule"] == 1.0 for r in rows.values())
    off = evaluate(con.table("a"), home_site_people=0)
    assert all(r["rule"] == r["headquarters"] == 0.0 for r in off)


def test_qualifying_weighs_revealing_people_by_their_bare_slots(resolver: Resolver):
    """Five people from China who named Microsoft Research Asia once wrote one bare slot each;
    one from China who named Redmond wrote six: by slots the headquarters wins, so a new
    Tsinghua person's bare "Microsoft" years stay in the US."""
    redmond = {2015: TSINGHUA, 2016: REDMOND}
    heavy = _slots(resolver, "heavy", redmond)
    heavy += [_slot(resolver.resolve(BARE), "heavy", 2017, f"2017:{k}") for k in range(6)]
    plan = {2015: TSINGHUA, 2016: TSINGHUA, 2017: BARE, 2018: BARE, 2019: TSINGHUA}
    out = careers(_msra_staff(resolver, 5) + heavy + _slots(resolver, "cn", plan))
    assert [(k, f, t) for k, _y, f, t in country_events(out, "cn")] == [
        ("migration", "CN", "US"),
        ("return", "US", "CN"),
    ]
