"""Location hints: country names and aliases, states and provinces, cities that imply a country.

The hand-curated tables live in ``data/places.json`` (documented in docs/resolve.md) and are
loaded here once; country names also come from pycountry and the country-codes registry. Ambiguous city names (Cambridge, Durham, Victoria,
Kingston, Hamilton, York, Columbia, ...) are left out on purpose: they are decided by the
institution or the email domain instead.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry

from talentflow.resolve.normalize import normalize


def _load() -> dict[str, Any]:
    text = resources.files("talentflow.resolve").joinpath("data/places.json").read_text("utf-8")
    return {k: v["table"] for k, v in json.loads(text).items() if not k.startswith("_")}


_TABLES = _load()
#: Extra country aliases (normalised on load). Hong Kong, Macao and Taiwan stay distinct.
COUNTRY_ALIASES: dict[str, str] = _TABLES["country_aliases"]
#: Words that are country names elsewhere but mostly something else in affiliations.
NOT_COUNTRIES: set[str] = set(_TABLES["not_countries"])
#: States, provinces and regions that imply a country.
REGIONS: dict[str, list[str]] = _TABLES["regions"]
#: Two-letter state/province codes, trusted only as the head of their own segment ("CA 94305").
REGION_CODES: dict[str, str] = _TABLES["region_codes"]
#: State codes that are also words or country codes: a state only before a ZIP code or after
#: another US place ("Urbana, IL"); otherwise a country code (or nothing).
CONTEXT_CODES: frozenset[str] = frozenset(_TABLES["context_codes"])
#: Region codes that are also country codes (or a region's code elsewhere): a region of the
#: first listed country named before them in the part ("University of Regina, SK").
CONTEXT_REGION_CODES: dict[str, list[str]] = _TABLES["context_region_codes"]
#: Country codes trusted when they form a segment of their own ("..., NL").
SEGMENT_COUNTRY_CODES: dict[str, str] = _TABLES["segment_country_codes"]
#: Cities (and campuses) that imply a country; unambiguous ones only.
CITIES: dict[str, list[str]] = _TABLES["cities"]
#: Country-code top-level domains used world-wide (.ai, .io, ...): they say nothing of a country.
VANITY_TLDS: tuple[str, ...] = tuple(_TABLES["vanity_tlds"])


def country_names(registry_dir: Path | None = None) -> dict[str, str]:
    """Normalised country name -> ISO2, from pycountry, the country-codes registry and aliases."""
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[normalize(value)] = c.alpha_2
    csv_path = registry_dir / "country-codes" / "country-codes.csv" if registry_dir else None
    if csv_path is not None and csv_path.exists():
        with csv_path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                iso2 = (row.get("ISO3166-1-Alpha-2") or "").strip()
                if len(iso2) != 2:
                    continue
                for col in ("CLDR display name", "official_name_en", "UNTERM English Short"):
                    value = (row.get(col) or "").strip()
                    if value:
                        names.setdefault(normalize(value), iso2)
    for alias, iso2 in COUNTRY_ALIASES.items():
        names[normalize(alias)] = iso2
    for word in NOT_COUNTRIES:
        names.pop(word, None)
    names.pop("", None)
    return names


def place_table(registry_dir: Path | None = None) -> dict[str, tuple[str, int]]:
    """Normalised place phrase -> (ISO2, rank); rank 3 country, 2 region, 1 city."""
    table: dict[str, tuple[str, int]] = {}
    for cc, cities in CITIES.items():
        for city in cities:
            table[normalize(city)] = (cc, 1)
    for cc, regions in REGIONS.items():
        for region in regions:
            table[normalize(region)] = (cc, 2)
    for name, cc in country_names(registry_dir).items():
        table[name] = (cc, 3)
    table.pop("", None)
    return table


def tld_countries(registry_dir: Path | None = None) -> dict[str, str]:
    """Country-code top-level domain (without dot) -> ISO2; ``uk`` is GB."""
    out: dict[str, str] = {c.alpha_2.lower(): c.alpha_2 for c in pycountry.countries}
    csv_path = registry_dir / "country-codes" / "country-codes.csv" if registry_dir else None
    if csv_path is not None and csv_path.exists():
        with csv_path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                tld = (row.get("TLD") or "").strip().lstrip(".").lower()
                iso2 = (row.get("ISO3166-1-Alpha-2") or "").strip()
                if tld and len(iso2) == 2:
                    out[tld] = iso2
    out["uk"] = "GB"
    # Vanity ccTLDs used world-wide say nothing about the country.
    for vanity in VANITY_TLDS:
        out.pop(vanity, None)
    return out
