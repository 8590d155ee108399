"""Plain-language notes on method and known limitations (shown on the methods page and report)."""

from __future__ import annotations

LIMITATIONS: list[str] = [
    "Coverage is what the open sources list: the selected AI venues and years, not all research. "
    "Researchers who never publish there are invisible, and a quiet year looks like absence.",
    "Affiliations are resolved from raw strings and e-mail domains; unresolved or ambiguous ones "
    "are left out rather than guessed, so small countries can be undercounted.",
    "One person may be split into several ids or two people merged; identity links use "
    "identifiers first and probabilistic matching second, with recorded match probabilities.",
    "Origin always means an observed career fact (first observed country, or country of training "
    "positions where a source states one). Nationality or ethnicity is never inferred from names.",
    "Moves are dated by publications, which lag the real move; the last years are right-censored "
    "(someone who just left may not have published abroad yet).",
    "Intervals are 95% cluster bootstrap intervals over persons; they cover sampling noise in who "
    "publishes, not errors in affiliation resolution or identity linking.",
    "Cells below the build's minimum cell size are suppressed (shown as n/a).",
    'A paper that names only a multinational ("Microsoft") or gives only its e-mail domain '
    "is placed at the headquarters as a flagged low-confidence fallback; careers then carry the "
    "person's known site at that organisation (a lab or campus named in other papers), so such "
    "papers never make a move. Site tables list labs and campuses abroad as of 2024-2025.",
    "Hong Kong, Macao and Taiwan are kept distinct from mainland China (ISO codes HK, MO, TW), even "
    "where an upstream label says 'China'.",
]

#: What each ``person_years.evidence`` label means (methods page, report).
EVIDENCE_NOTES: dict[str, str] = {
    "paper": "The person has papers in the covered venues that year; place and sector come "
    "from the resolved affiliations of those papers.",
    "openalex_history": "No paper in the covered venues that year; the place is the "
    "institution OpenAlex lists for the person's author profile that year "
    "(affiliations[].years, drawn from all their works). Used only in builds with "
    "--careers-evidence papers+histories, for persons linked to an OpenAlex author id, and "
    "within the years the papers span. Moves into such a year carry the flag "
    "openalex_history.",
    "backfill": "A gap of at most b years between two observed years, filled with the last "
    "observed place (observed = false).",
}
