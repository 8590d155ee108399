"""The resolver on real tricky strings, property tests, and odd input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentflow.resolve import Resolution, Resolver, load_gazetteer
from talentflow.resolve.sectors import SECTORS

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ISO2 = re.compile(r"^[A-Z]{2}$")


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    # Compiled once into the user cache; later loads take well under a second.
    return Resolver(load_gazetteer(SHARED_DATA))


@pytest.mark.parametrize(
    ("affiliation", "domain", "country"),
    [
        # a lab's site beats its headquarters
        ("Tencent AI Lab, Seattle", None, "US"),
        ("Tencent AI Lab", "tencent.com", "CN"),
        ("Microsoft Research Asia", None, "CN"),
        ("Microsoft Research Asia, Beijing, China", "microsoft.com", "CN"),
        ("Google Research, Zurich", None, "CH"),
        ("Google Research", "google.com", "US"),
        ("Huawei Noah's Ark Lab, Montreal", None, "CA"),
        ("DeepMind, London", None, "GB"),
        ("Meta AI (FAIR), Paris", None, "FR"),
        ("Samsung AI Center, Toronto", None, "CA"),
        # Chinese, Japanese and European names; HK, MO and TW stay distinct
        ("清华大学", None, "CN"),
        ("Technische Universität München", None, "DE"),
        ("ETH Zürich", None, "CH"),
        ("The Hong Kong University of Science and Technology", None, "HK"),
        ("Department of Computer Science, City University of Hong Kong", None, "HK"),
        ("National Taiwan University", None, "TW"),
        ("University of Macau", None, "MO"),
        ("The University of Tokyo", None, "JP"),
        # location hints in any position, aliases, state codes
        ("Dept. of EE, Stanford Univ., Stanford, CA 94305, USA", None, "US"),
        ("Some Lab, Nanjing 210023, P.R. China", None, "CN"),
        ("KAIST, Daejeon, Korea", None, "KR"),
        ("Purdue University, West Lafayette, IN", None, "US"),
        ("University of Illinois at Urbana-Champaign, Urbana, IL", None, "US"),
        ("Eindhoven University of Technology, NL", None, "NL"),
        ("Northeastern University, Shenyang, China", None, "CN"),
        ("Northeastern University, Boston, MA", None, "US"),
        # city only, department without institution (domain decides), misspellings
        ("Beijing", None, "CN"),
        ("Department of Computer Science", "cs.stanford.edu", "US"),
        ("Department of Computer Science", "cs.ox.ac.uk", "GB"),
        ("Tsinghua Univeristy", None, "CN"),
        ("Carnegie Melon University", "cs.cmu.edu", "US"),
    ],
)
def test_tricky_strings(resolver, affiliation, domain, country):
    res = resolver.resolve(affiliation, domain)
    assert res.country == country, (affiliation, res)
    assert 0.0 < res.confidence <= 1.0
    assert res.evidence


def test_institutions_and_sectors(resolver):
    res = resolver.resolve("IIIS, Tsinghua University", "tsinghua.edu.cn")
    assert res.institution == "Tsinghua University" and res.sector == "education"
    assert res.institution_id
    res = resolver.resolve("Microsoft Research Asia")
    assert res.institution == "Microsoft" and res.sector == "company"
    res = resolver.resolve("Shanghai AI Laboratory")
    assert res.country == "CN" and res.sector == "facility"


def test_multi_affiliations_keep_order(resolver):
    res = resolver.resolve("IIIS, Tsinghua University+MIT CSAIL", "tsinghua.edu.cn")
    assert res.countries == ["CN", "US"]
    assert res.country == "CN"
    res = resolver.resolve("Google Research and Kyoto University")
    assert res.countries == ["US", "JP"]
    # "and" inside one organisation's name does not split it
    res = resolver.resolve("King Abdullah University of Science and Technology")
    assert res.countries == ["SA"]


def test_webmail_says_nothing(resolver):
    for dom in ("gmail.com", "qq.com", "163.com", "outlook.com"):
        res = resolver.resolve("Department of Computer Science", dom)
        assert res.country is None and res.institution is None, dom
        assert res.confidence == 0.0


def test_unresolvable_strings_give_no_country(resolver):
    for text in ("", "   ", "Independent", "Xqzv Wlkp", "Department of Mathematics"):
        res = resolver.resolve(text, None)
        assert res.country is None, text
        assert res.confidence == 0.0


def test_domain_country_tld_and_edu(resolver):
    assert resolver.resolve("Unknown Institute", "foo.ac.jp").country == "JP"
    assert resolver.resolve("", "unknown-college.edu").country == "US"
    assert resolver.resolve("", "foo.edu.hk").country == "HK"
    assert resolver.resolve(None, "stanford.edu").institution is not None


def test_confidence_is_higher_for_agreeing_evidence(resolver):
    strong = resolver.resolve("Stanford University, Stanford, CA, USA", "stanford.edu")
    weak = resolver.resolve("Some Lab", "foo.ac.jp")
    assert strong.confidence > weak.confidence


def _check_schema(res: Resolution) -> None:
    assert isinstance(res, Resolution)
    assert res.country is None or ISO2.match(res.country)
    assert all(c is None or ISO2.match(c) for c in res.countries)
    if res.countries:
        assert res.countries[0] == res.country
    assert res.sector is None or res.sector in SECTORS
    assert 0.0 <= res.confidence <= 1.0
    assert (res.country is None) == (res.confidence == 0.0)
    assert isinstance(res.evidence, list) and all(isinstance(e, str) for e in res.evidence)
    assert res.institution is None or res.institution_id


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(st.none(), st.text(max_size=300)),
    domain=st.one_of(st.none(), st.text(max_size=60), st.from_regex(r"[a-z]{1,8}\.[a-z]{2,3}")),
)
def test_resolution_never_raises_and_schema_holds(resolver, text, domain):
    _check_schema(resolver.resolve(text, domain))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(
        st.sampled_from(
            ["Tsinghua University", "MIT", "Google Research, Zurich", "Beijing", "xyz", ""]
        ),
        min_size=1,
        max_size=5,
    )
)
def test_one_country_per_part(resolver, parts):
    res = resolver.resolve("+".join(parts), None)
    _check_schema(res)
    assert len(res.countries) == len([p for p in parts if p.strip()])


def test_huge_and_control_character_input(resolver):
    huge = "Stanford University, " * 50_000
    res = resolver.resolve(huge, None)
    _check_schema(res)
    assert res.country == "US"
    res = resolver.resolve("Tsinghua\x00 University\x07\n, Beijing", None)
    assert res.country == "CN"
    _check_schema(resolver.resolve("+" * 10_000, "@@@"))
