"""Sector of an organisation from registry types or, failing that, from its name."""

from __future__ import annotations

import re

SECTORS = ("education", "company", "government", "facility", "nonprofit", "healthcare", "other")

#: ROR organisation types -> sector.
ROR_TYPES = {
    "Education": "education",
    "Company": "company",
    "Government": "government",
    "Facility": "facility",
    "Nonprofit": "nonprofit",
    "Healthcare": "healthcare",
    "Archive": "other",
    "Other": "other",
}

# Ordered: the first rule whose pattern matches the (folded, lower-case) name decides.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("healthcare", re.compile(r"\b(hospital|clinic|medical cent|health system|klinikum|charite)")),
    (
        "education",
        re.compile(
            r"(universi|college|school|polytechn|politecnico|\becole\b|hochschule|\betsi|"
            r"\beth\b|\bepfl\b|\bkaist\b|\bpostech\b|\bunist\b|\bdgist\b|\bgist\b|\biit\b|"
            r"\biiit\b|\bucl\b|\bmit\b|\bkth\b|\bnyu\b|\bucla\b|\bucsd\b|\bcmu\b|\bttic\b|"
            r"\btechnion\b|\bku leuven\b|\btu wien\b|\bmbzuai\b|\binstitute of technology\b|"
            r"\bakademi|\bacademy\b(?! of sciences))"
        ),
    ),
    (
        "government",
        re.compile(
            r"(ministry|\bagency\b|\bgovernment\b|national laborator|national lab\b|"
            r"\barmy\b|\bnavy\b|\bair force\b|\bnasa\b|\bnih\b|\bnist\b|\bdepartment of\b|"
            r"\bcsiro\b|\bcnrs\b|\bcommission\b|\bbureau\b|\bcouncil\b)"
        ),
    ),
    (
        "company",
        re.compile(
            r"(\binc\b|\bltd\b|\bllc\b|\bgmbh\b|\bcorp|\bcompany\b|\bco\b|\bag\b|\bs a\b|"
            r"\bplc\b|\bgroup\b|technologies|\bsystems\b|\bsoftware\b|\bai\b|\blabs\b|"
            r"\bholdings\b|\bbank\b|\bcapital\b|\bconsult)"
        ),
    ),
    (
        "facility",
        re.compile(
            r"(institut|laborator|\blab\b|\bcent(er|re)\b|academy of sciences|\bkey lab|"
            r"observatory|research)"
        ),
    ),
    ("nonprofit", re.compile(r"(foundation|society|association|\bfund\b|\btrust\b)")),
]


def sector_from_name(name: str) -> str:
    """Guess a sector from an organisation name (``other`` when nothing matches).

    Examples
    --------
    >>> sector_from_name("Tsinghua University")
    'education'
    >>> sector_from_name("Snap Inc.")
    'company'
    """
    low = " " + re.sub(r"[^0-9a-z]+", " ", name.lower()) + " "
    for sector, pattern in _RULES:
        if pattern.search(low):
            return sector
    return "other"
