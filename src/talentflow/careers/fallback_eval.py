"""How well a headquarters fallback's country is guessed, read from people who reveal it.

A slot that names only a multinational ("Microsoft") is resolved to its headquarters
(``hq_fallback``). Some people write the bare name in some years and name their site ("Microsoft
Research Asia") in others: for them the careers stage carries the known site
(:func:`talentflow.careers.person_years.carry_site_country`), and that carried country is this
evaluation's truth. Their site-naming slots of the organisation are then hidden, and the
fallback years are guessed twice: by the headquarters, and by the careers stage's rule for a
company with no known site (:mod:`talentflow.careers.company_home`). Accuracy is over
fallback slots, in two halves of the people (by the MD5 of their id); each half is guessed
with the companies qualified by the other half's revealing people only, so no person's own
sites decide their guess.

Run::

    uv run talentflow evaluate fallback --db talentflow.duckdb

The people who reveal a site are not a random sample of fallback writers (someone at a site
abroad names it more often), so the figures say which guess is better for them, not how often
the headquarters is wrong overall.
"""

from __future__ import annotations

import argparse
from typing import Any

import ibis
from ibis import _

from talentflow.careers.person_years import HOME_SITE_PEOPLE, carry_site_country, raw_observations


def evaluate(authorships: Any, home_site_people: int = HOME_SITE_PEOPLE) -> list[dict[str, Any]]:
    """Per half of the people (``A``, ``B``): fallback slots scored, the headquarters'
    accuracy and the rule's, against the site the person names in other years. Each half is
    guessed with its own revealed sites hidden and the companies qualified by the *other*
    half's revealing people only."""
    raw = raw_observations(authorships)
    digit = raw.person_id.hexdigest("md5").substr(31, 1)
    raw = raw.mutate(half=ibis.ifelse(digit.isin(list("02468ace")), "A", "B"))
    keys = ["person_id", "institution"]
    named = raw.filter(~_.hq_fallback, _.institution.notnull(), _.country.notnull())
    bare = raw.filter(_.hq_fallback, _.institution.notnull())
    revealed = bare.select(*keys).distinct().semi_join(named.select(*keys).distinct(), keys)
    on = ["person_id", "institution", "year", "paper_id"]
    truth = carry_site_country(raw, 0).filter(_.hq_fallback).semi_join(revealed, keys)
    truth = truth.select(*on, "half", truth_country="country")
    truth = truth.join(bare.select(*on, hq_country="country"), on)
    out = []
    for half, other in (("A", "B"), ("B", "A")):
        # this half's site-naming slots of the companies they also write bare are hidden
        hidden = named.filter(_.half == half).semi_join(revealed, keys).select(*on)
        masked = raw.anti_join(hidden, on)
        voters = raw.filter(_.half == other).select("person_id").distinct()
        guessed = carry_site_country(masked.drop("half"), home_site_people, voters)
        guessed = guessed.filter(_.hq_fallback).select(*on, rule_country="country")
        scored = truth.filter(_.half == half).join(guessed, on)
        row = scored.agg(
            slots=_.count(),
            headquarters=(_.hq_country == _.truth_country).cast("float64").mean(),
            rule=(_.rule_country == _.truth_country).cast("float64").mean(),
            changed=(_.rule_country != _.hq_country).cast("int64").sum(),
        )
        out.append({"half": half, **row.to_pyarrow().to_pylist()[0]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="talentflow evaluate fallback",
        description="Score the headquarters and the careers rule on people who reveal a site.",
    )
    parser.add_argument("--db", default="talentflow.duckdb", help="a built store")
    parser.add_argument(
        "--home-site-people",
        type=int,
        default=HOME_SITE_PEOPLE,
        help="other people a company must be seen with in the person's country (0: rule off)",
    )
    args = parser.parse_args(argv)
    con = ibis.duckdb.connect(args.db, read_only=True)
    rows = evaluate(con.table("authorships"), args.home_site_people)
    print("half  slots  headquarters  rule    changed")
    for r in rows:
        print(
            f"{r['half']:<5} {r['slots']:>6}  {r['headquarters']:.4f}        "
            f"{r['rule']:.4f}  {r['changed']:>6}"
        )
    return 0
