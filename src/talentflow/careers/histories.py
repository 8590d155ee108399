"""Author histories as career evidence of their own kind (``--careers-evidence``).

``papers`` (the default) reads careers from the covered venues' author slots only.
``papers+histories`` adds, for persons linked to an OpenAlex author, the institutions OpenAlex
lists by year (``author_affiliations``, from ``affiliations[].years``), but only for years in
which the person has no paper in the covered venues and within the data's years (first to last
year of any paper): a history fills the years between conference papers and shows a return (or
any move) that happened outside the covered venues; it never overrides what a paper says. A
history year before a person's first paper can change their first observed country.

A person is linked to an OpenAlex author when ``persons.known_ids`` holds ``openalex:A...``
(given by a source, directly or through identity linking) or the author's ORCID iD as
``orcid:...``. An author id linked to more than one person is left out (ambiguous).

Labels: ``person_years.evidence`` is ``paper`` (the year has papers), ``openalex_history``
(the year comes from an author history only) or ``backfill`` (a gap year filled by ``b``);
an event whose receiving year is a history-only year gets the flag ``openalex_history``.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

EVIDENCE_CHOICES = ("papers", "papers+histories")
DEFAULT_EVIDENCE = "papers"
HISTORY_FLAG = "openalex_history"

#: OpenAlex institution types -> the resolver's sectors (``archive`` has no sector of its own).
_SECTOR = {
    "education": "education",
    "company": "company",
    "government": "government",
    "facility": "facility",
    "nonprofit": "nonprofit",
    "healthcare": "healthcare",
    "archive": "other",
    "other": "other",
}


def check_evidence(value: str) -> str:
    """``value`` when it is one of :data:`EVIDENCE_CHOICES`, else a ValueError naming them."""
    if value not in EVIDENCE_CHOICES:
        raise ValueError(
            f"careers evidence must be one of {', '.join(EVIDENCE_CHOICES)}, got {value!r}"
        )
    return value


def linked_authors(persons: Any, author_affiliations: Any) -> Any:
    """person_id, author_id: OpenAlex authors linked to exactly one person."""
    keys = persons.select("person_id", k=_.known_ids).unnest("k")
    by_id = keys.filter(_.k.startswith("openalex:A")).select(
        "person_id", author_id=_.k.substr(len("openalex:"))
    )
    orcids = author_affiliations.filter(_.orcid.notnull()).select("author_id", "orcid").distinct()
    by_orcid = (
        keys.filter(_.k.startswith("orcid:"))
        .select("person_id", orcid=_.k.substr(len("orcid:")).upper())
        .inner_join(orcids.mutate(orcid=_.orcid.upper()), "orcid")
        .select("person_id", "author_id")
    )
    links = by_id.union(by_orcid).distinct()
    single = links.group_by("author_id").agg(n=_.person_id.nunique()).filter(_.n == 1)
    return links.inner_join(single.select("author_id"), "author_id").select(
        "person_id", "author_id"
    )


def history_observations(obs: Any, persons: Any, author_affiliations: Any) -> Any:
    """Observation rows (as :func:`person_years.observations` gives, ``paper_id`` NULL) from
    the author histories of linked persons, for their years without papers."""
    aff = author_affiliations
    first, last = obs.year.min(), obs.year.max()
    sector = _.institution_type.substitute(_SECTOR, else_=ibis.null("string"))
    hist = (
        aff.inner_join(linked_authors(persons, aff), "author_id")
        .select(
            "person_id",
            year=_.year.cast("int64"),
            institution=_.institution,
            country=_.country,
            sector=sector,
        )
        .distinct()
    )
    paper_years = obs.select("person_id", "year").distinct()
    hist = hist.filter((_.year >= first) & (_.year <= last)).anti_join(
        paper_years, ["person_id", "year"]
    )
    hist = hist.select(
        "person_id",
        "year",
        paper_id=ibis.null("string"),
        institution=_.institution,
        country=_.country,
        sector=_.sector,
        career_position=ibis.null("string"),
    )
    # any other column of the observations (flags of the resolver) is empty: false or NULL
    extra = {
        c: ibis.literal(False) if obs[c].type().is_boolean() else ibis.null(obs[c].type())
        for c in obs.columns
        if c not in hist.columns
    }
    return hist.mutate(**extra).select(*obs.columns)


def with_histories(con: Any, obs: Any, evidence: str) -> Any:
    """``obs`` plus history rows under ``papers+histories`` (when the store has histories)."""
    tables = con.list_tables()
    if check_evidence(evidence) == "papers" or not {"author_affiliations", "persons"} <= set(
        tables
    ):
        return obs
    hist = history_observations(obs, con.table("persons"), con.table("author_affiliations"))
    return obs.union(hist.select(*obs.columns))


def label_person_years(person_years: Any) -> Any:
    """``person_years`` with ``evidence``: ``paper``, ``openalex_history`` or ``backfill``."""
    return person_years.mutate(
        evidence=ibis.cases(
            (~_.observed, "backfill"), (_.n_papers > 0, "paper"), else_=HISTORY_FLAG
        )
    )


def label_events(events: Any, person_years: Any) -> Any:
    """Events whose year is a history-only year of the person get the ``openalex_history`` flag."""
    hist = person_years.filter(_.evidence == HISTORY_FLAG).select(
        "person_id", "year", _hist=ibis.literal(True)
    )
    joined = events.left_join(hist, ["person_id", "year"])
    flagged = ibis.ifelse(
        joined._hist.fill_null(False),
        joined.flags.concat(ibis.literal([HISTORY_FLAG], type="array<string>")),
        joined.flags,
    )
    return joined.mutate(flags=flagged).select(*events.columns)


def recorded_evidence(con: Any) -> str:
    """The careers evidence recorded in this store's ``build_params`` (``not recorded`` if none).

    Indicators record it beside their own parameters, so every figure says what it reads.
    """
    if "build_params" not in con.list_tables():
        return "not recorded"
    bp = con.table("build_params")
    rows = bp.filter((_.stage == "careers") & (_.name == "evidence")).select("value").to_pyarrow()
    values = rows.column(0).to_pylist()
    return str(values[-1]).strip('"') if values else "not recorded"
