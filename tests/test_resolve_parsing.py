"""Normalisation, splitting, email domains and place hints of the resolver."""

from __future__ import annotations

from talentflow.resolve.domains import domain_keys, parse_domain
from talentflow.resolve.normalize import normalize, segments, split_parts
from talentflow.resolve.places import country_names, place_table, tld_countries
from talentflow.resolve.sectors import sector_from_name


def test_normalize_folds_accents_case_punctuation_and_abbreviations():
    assert normalize("Dept. of CS, Univ. of Toronto") == "department of cs university of toronto"
    assert normalize("Technische Universität München") == "technische universitat munchen"
    assert normalize("ÉCOLE  Polytechnique") == "ecole polytechnique"
    assert normalize("The University of Tokyo") == normalize("University of Tokyo")
    assert normalize("University of Washington1") == "university of washington"
    assert normalize("CSIRO Data61") == "csiro data61"  # digits that are part of a name stay
    assert normalize("清华大学") == "清华大学"
    assert normalize("") == ""
    assert normalize("\x00\x07,;.") == ""


def test_split_parts_and_segments():
    assert split_parts("MIT + Google Research+ ") == ["MIT", "Google Research"]
    assert split_parts("") == []
    assert segments("CS Dept, Stanford University (Stanford, CA) - USA") == [
        "CS Dept",
        " Stanford University ",
        "Stanford",
        " CA",
        "USA",
    ]


def test_email_domains_registered_webmail_and_keys():
    info = parse_domain("cs.stanford.edu")
    assert info is not None and info.registered == "stanford.edu" and not info.webmail
    assert parse_domain("lamda.nju.edu.cn").registered == "nju.edu.cn"
    assert parse_domain("eng.ox.ac.uk").suffix == "ac.uk"
    for webmail in ("gmail.com", "qq.com", "163.com", "mail.163.com", "foxmail.com"):
        assert parse_domain(webmail).webmail, webmail
    assert parse_domain("someone@mit.edu").registered == "mit.edu"
    for bad in ("", "   ", "nodot", "a b.com"):
        assert parse_domain(bad) is None
    assert domain_keys(parse_domain("vision.cs.stanford.edu")) == [
        "vision.cs.stanford.edu",
        "cs.stanford.edu",
        "stanford.edu",
    ]


def test_country_names_and_aliases(shared_data):
    names = country_names(shared_data / "registries")
    assert names["usa"] == "US"
    assert names[normalize("P.R. China")] == "CN"
    assert names[normalize("Hong Kong SAR")] == "HK"
    assert names["taiwan"] == "TW"
    assert names["korea"] == "KR"
    assert names["turkiye"] == "TR"
    assert "georgia" not in names  # far more often the US state in affiliations
    places = place_table(shared_data / "registries")
    assert places["seattle"] == ("US", 1)
    assert places["new mexico"] == ("US", 2)
    assert places["mexico"] == ("MX", 3)
    tlds = tld_countries(shared_data / "registries")
    assert tlds["uk"] == "GB" and tlds["cn"] == "CN" and tlds["hk"] == "HK"
    assert "ai" not in tlds and "io" not in tlds  # vanity TLDs say nothing


def test_sector_from_name():
    assert sector_from_name("Tsinghua University") == "education"
    assert sector_from_name("Snap Inc.") == "company"
    assert sector_from_name("Massachusetts General Hospital") == "healthcare"
    assert sector_from_name("Chinese Academy of Sciences") == "facility"
    assert sector_from_name("Ministry of Education") == "government"
    assert sector_from_name("Xyzzy") == "other"
