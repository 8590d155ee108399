"""Why records were joined: one person's authorships with the rule and evidence of each link."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class UnknownPerson(LookupError):
    """The person id is not in the store."""


@dataclass
class Explanation:
    """A person, its linked authorships and the thresholds of the build that linked them."""

    person: dict[str, Any]
    links: list[dict[str, Any]]
    params: dict[str, Any]


def explain(con: Any, person_id: str) -> Explanation:
    """Look up ``person_id`` in a store (an Ibis connection) and gather the link evidence.

    ``cluster_evidence`` of a ``splink`` link lists each comparison's match weight
    (log2 Bayes factor) for the pair that attached it (prefixed ``unique name;`` when the
    unique-name rule attached it); ``identifier`` links list the ids, and those of an id
    fragment merged into a profile say so (``id fragment: same name, N shared co-authors``).
    """
    persons = con.table("persons")
    person = persons.filter(persons.person_id == person_id).to_pyarrow().to_pylist()
    if not person:
        raise UnknownPerson(person_id)
    links = con.table("person_links")
    a = con.table("authorships")
    cols = [
        c
        for c in (
            "authorship_id",
            "venue",
            "year",
            "author_name",
            "source_person_id",
            "orcid",
            "dblp",
            "scholar",
            "linkedin",
            "current_profile",
            "raw_affiliation",
            "email_domain",
        )
        if c in a.columns
    ]
    rows = (
        links.filter(links.person_id == person_id)
        .join(a.select(*cols), "authorship_id")
        .order_by(["year", "authorship_id"])
        .to_pyarrow()
        .to_pylist()
    )
    params: dict[str, Any] = {}
    if "build_params" in con.list_tables():
        bp = con.table("build_params")
        for r in bp.filter(bp.stage == "identity").to_pyarrow().to_pylist():
            if r["name"] not in ("model", "stats"):
                params[r["name"]] = json.loads(r["value"])
    return Explanation(person[0], rows, params)
