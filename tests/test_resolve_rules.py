"""Place, shared-name and candidate rules of the resolver, on a small gazetteer built in code.

The registries are a handful of ROR-style records written to a temporary folder and the
labelled slots are built here, so each rule is checked on the one case it is about.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talentflow.resolve.builder import GazetteerBuilder
from talentflow.resolve.gazetteer import Gazetteer
from talentflow.resolve.labels import LabelledSlot
from talentflow.resolve.normalize import segments
from talentflow.resolve.resolver import Resolver

ROR = {
    "ca": [("University of Regina", "Education")],
    "sk": [("Comenius University Bratislava", "Education")],
    "au": [("University of Adelaide", "Education")],
    "sa": [("King Abdulaziz University", "Education")],
    "us": [
        ("Northeastern University", "Education"),
        ("Purdue University", "Education"),
        ("Carnegie Mellon University", "Education"),
        ("Chan Zuckerberg Initiative (United States)", "Company"),
        ("Texas Instruments", "Company"),
        ("Texas Instruments (United States)", "Company"),
    ],
    "cn": [
        ("Northeastern University", "Education"),
        ("Shenyang Institute of Automation", "Facility"),
        ("Shanghai Jiao Tong University", "Education"),
        ("Tianjin University", "Education"),
    ],
    "de": [
        ("Cadence Design Systems (Germany)", "Company"),
        ("Texas Instruments (Germany)", "Company"),
    ],
    "in": [
        ("Cadence Design Systems (India)", "Company"),
        ("Indian Institute of Science", "Education"),
    ],
    "kr": [("University of Science and Technology", "Education")],
    "ye": [("University of Science and Technology", "Education")],
    "nl": [("Utrecht University", "Education")],
    "be": [("Ghent University", "Education")],
    "dk": [("Technical University of Denmark", "Education")],
}


def _slot(aff: str, inst: str, country: str, domain: str | None = None) -> LabelledSlot:
    return LabelledSlot("nips", 2016, aff, domain, (inst,), (country,))


#: Labelled sightings: Northeastern University in Boston (most) and in Shenyang; two unit
#: aliases ("Department of Philosophy" seen with CMU, "Department of Mathematical Modelling"
#: with DTU) that must not outweigh a named university elsewhere.
SLOTS = (
    [
        _slot(
            "Northeastern University",
            "Northeastern University",
            "United States",
            "northeastern.edu",
        )
    ]
    * 8
    + [
        _slot("Northeastern University, China", "Northeastern University", "China", "neu.edu.cn"),
        _slot(
            "Northeastern University, Shenyang", "Northeastern University", "China", "neu.edu.cn"
        ),
        _slot("Northeastern University, China", "Northeastern University", "China", "neu.edu.cn"),
        # labelled with the wrong campus: the .cn domain still says China
        _slot(
            "Northeastern University", "Northeastern University", "United States", "cse.neu.edu.cn"
        ),
        _slot(
            "Northeastern University", "Northeastern University", "United States", "cse.neu.edu.cn"
        ),
    ]
    + [
        _slot(
            "Department of Philosophy, Carnegie Mellon University",
            "Carnegie Mellon University",
            "United States",
        ),
        _slot("Department of Philosophy", "Carnegie Mellon University", "United States"),
        _slot("Department of Philosophy", "Carnegie Mellon University", "United States"),
        _slot(
            "Department of Mathematical Modelling",
            "Technical University of Denmark",
            "Denmark",
        ),
        _slot(
            "Department of Mathematical Modelling",
            "Technical University of Denmark",
            "Denmark",
        ),
    ]
)


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    root = tmp_path_factory.mktemp("registries")
    ror = root / "ror-parser"
    ror.mkdir()
    for cc, records in ROR.items():
        recs = [{"name": n, "country_code": cc.upper(), "types": [t]} for n, t in records]
        (ror / f"{cc}.json").write_text(json.dumps(recs), "utf-8")
    builder = GazetteerBuilder(root)
    builder.add_labs()
    builder.add_registries()
    builder.add_labels(SLOTS)
    builder.add_aliases()
    builder.add_sites()
    return builder.finish()


@pytest.fixture
def r(gaz: Gazetteer) -> Resolver:
    return Resolver(gaz)


@pytest.mark.parametrize(
    ("affiliation", "country"),
    [
        # a Canadian province code after a Canadian institution is no country code
        ("University of Regina, SK", "CA"),
        ("Department of Computer Science, University of Regina, Regina, SK", "CA"),
        ("Comenius University Bratislava, SK", "SK"),  # after a Slovak one it is Slovakia
        # Australian state codes shared with countries
        ("University of Adelaide, SA 5005", "AU"),
        ("King Abdulaziz University, Jeddah, SA", "SA"),
        # US state codes that are also country codes or words
        ("Purdue University, West Lafayette, IN", "US"),
        ("Indian Institute of Science, Bangalore, IN", "IN"),
        ("Athens, GA", "US"),  # a state code after a city of another country
        ("Berlin, DE", "DE"),  # a country's own code after its city
        ("Toronto, CA", "CA"),
        ("BlueHalo, 15400 Calhoun Dr #190, Rockville, MD", "US"),  # ends the string
        ("Ping An Technology (Shenzhen) Co., Ltd", "CN"),  # "Co." is no Colorado
    ],
)
def test_region_and_country_codes(r: Resolver, affiliation: str, country: str) -> None:
    res = r.resolve(affiliation)
    assert res.country == country, r.explain(affiliation)


def test_region_codes_do_not_leak_without_context(r: Resolver) -> None:
    # without a Canadian place before it, SK stays Slovakia and NL the Netherlands
    assert r.resolve("Some Institute, SK").country == "SK"
    assert r.resolve("Some Institute, NL").country == "NL"


def test_shared_name_decided_by_domain_place_and_co_mentioned_parts(r: Resolver) -> None:
    # the domain and the learned alias go to the Shenyang entity (their own country), not to
    # the most seen Boston one
    res = r.resolve("Software College, Northeastern University, China", "mail.neu.edu.cn")
    assert (res.institution, res.country) == ("Northeastern University", "CN")
    assert r.resolve("Northeastern University", "neu.edu.cn").country == "CN"
    assert r.resolve("Northeastern University", "northeastern.edu").country == "US"
    assert r.resolve("Northeastern University", "cse.neu.edu.cn").country == "CN"
    assert r.resolve("Northeastern University, Shenyang").country == "CN"
    # no hint at all: the most seen one
    assert r.resolve("Northeastern University").country == "US"
    # a co-mentioned part in Shenyang decides it
    res = r.resolve("Northeastern University + Shenyang Institute of Automation")
    assert res.countries == ["CN", "CN"]


def test_shared_name_contradicted_by_place_or_tld_is_left_open(r: Resolver) -> None:
    # "University of Science and Technology" is in Korea and Yemen; an Egyptian domain
    # says neither: the domain decides, no institution is guessed
    res = r.resolve("University of Science and Technology, Zewail City", "zewailcity.edu.eg")
    assert res.country == "EG" and res.institution is None


def test_city_beats_institution_unless_the_domain_agrees(r: Resolver) -> None:
    res = r.resolve("SJTU-Paris Elite Institute, Shanghai Jiao Tong University, Paris")
    assert (res.country, res.method) == ("FR", "city>inst")
    res = r.resolve(
        "SJTU-Paris Elite Institute, Shanghai Jiao Tong University, Paris", "sjtu.edu.cn"
    )
    assert res.country == "CN" and res.method.startswith("inst>city")
    # a region's name is often part of another name: it does not overrule the institution
    assert r.resolve("Georgia Tech Shenzhen Institute, Tianjin University").country == "CN"


def test_country_name_beats_a_site_brand(r: Resolver) -> None:
    assert r.resolve("IBM Research Zurich").country == "CH"
    res = r.resolve("IBM Research Zurich, Dublin, Ireland")
    assert (res.country, res.method, res.institution) == ("IE", "hint>site", "IBM")


def test_unit_alias_loses_to_a_named_university(r: Resolver) -> None:
    # "Department of Philosophy" was learned for CMU; beside a university's name it says less
    assert r.resolve("Department of Philosophy").institution == "Carnegie Mellon University"
    res = r.resolve("Dept. of Philosophy and Religious Studies, Utrecht University")
    assert (res.institution, res.country) == ("Utrecht University", "NL")


def test_and_splits_only_before_a_name(r: Resolver) -> None:
    res = r.resolve(
        "KERMIT, Department of Mathematical Modelling, Statistics and Bioinformatics, "
        "Ghent University, Ghent, Belgium",
        "ugent.be",
    )
    assert len(res.countries) == 1
    assert (res.institution, res.country) == ("Ghent University", "BE")
    res = r.resolve("Purdue University and Tianjin University")
    assert res.countries == ["US", "CN"]


def test_ror_national_records_known_by_bare_name(r: Resolver) -> None:
    res = r.resolve("Chan Zuckerberg Initiative")
    assert (res.institution, res.country) == ("Chan Zuckerberg Initiative", "US")
    # several national records and no parent: a shared name, decided by a place
    assert r.resolve("Cadence Design Systems").country is None
    assert r.resolve("Cadence Design Systems, Bangalore").country == "IN"
    # a parent record keeps the bare name
    res = r.resolve("Texas Instruments")
    assert (res.institution, res.country) == ("Texas Instruments", "US")


def test_co_ltd_is_one_company_suffix() -> None:
    assert segments("Canon Information Technology (Beijing) Co., Ltd")[-1].strip() == "Ltd"
    assert segments("Acme, Colorado") == ["Acme", " Colorado"]


@pytest.mark.parametrize(
    ("affiliation", "institution", "country"),
    [
        ("Baichuan Inc.", "Baichuan", "CN"),
        ("Baichuan Intelligent Technology", "Baichuan", "CN"),
        ("百川智能", "Baichuan", "CN"),
        ("StepFun", "StepFun", "CN"),
        ("StepFun AI", "StepFun", "CN"),
        ("阶跃星辰", "StepFun", "CN"),
        ("OpenAI", "OpenAI", "US"),
        ("Anthropic", "Anthropic", "US"),
        ("Google DeepMind", "DeepMind", "GB"),
        ("DeepSeek-AI", "DeepSeek", "CN"),
        ("Moonshot AI", "Moonshot AI", "CN"),
        ("Zhipu AI", "Zhipu AI", "CN"),
        ("MiniMax", "MiniMax", "CN"),
        ("01.AI", "01.AI", "CN"),
        ("Qwen Team, Alibaba Group", "Alibaba Group", "CN"),
        ("Qwen", "Alibaba Group", "CN"),
        ("ByteDance Seed", "ByteDance", "CN"),
        ("Shanghai AI Laboratory", "Shanghai AI Laboratory", "CN"),
    ],
)
def test_llm_labs(r: Resolver, affiliation: str, institution: str, country: str) -> None:
    res = r.resolve(affiliation)
    assert (res.institution, res.country) == (institution, country)
    assert res.sector in ("company", "facility")


def test_llm_labs_of_the_web_view_are_resolver_names(gaz: Gazetteer) -> None:
    import csv

    path = Path(__file__).resolve().parents[1] / "src/talentflow/web/data/llm_labs.csv"
    with path.open(encoding="utf-8") as fh:
        names = {row["institution"] for row in csv.DictReader(fh)}
    known = {e[0] for e in gaz.entities}
    assert names - known == set()
