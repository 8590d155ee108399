"""The trust guard on identifier uses: a mistyped id must not merge two people."""

from __future__ import annotations

import ibis

from talentflow.identity import features, identifiers
from tests.test_identity_link import row, table


def _trusted(rows) -> set[str]:
    """The authorships whose id use the guard keeps."""
    con = ibis.duckdb.connect()
    con.create_table("a", table(rows).drop_columns(["truth"]))
    a = con.table("a")
    names = con.create_table("names", features.name_table(con, a))
    feats = con.create_table("feats", features.authorship_features(a, names, None))
    ids = identifiers.trusted_ids(identifiers.authorship_ids(a), feats)
    return {r["authorship_id"] for r in ids.to_pyarrow().to_pylist()}


def _uses(dblp: str, names: list[str]) -> list[dict[str, object]]:
    """One paper per name, each carrying ``dblp``; the first name is the id's usual one."""
    usual = [row(f"u{i}#0", names[0], dblp=dblp, year=2015 + i) for i in range(3)]
    return usual + [row(f"x{i}#0", n, dblp=dblp, year=2020) for i, n in enumerate(names[1:])]


def test_same_surname_with_another_given_name_is_not_the_ids_person() -> None:
    kept = _trusted(_uses("dblp:183/0579", ["Yuxiang Wang", "Mengdi Wang"]))
    assert "x0#0" not in kept and {"u0#0", "u1#0", "u2#0"} <= kept


def test_two_people_two_edits_apart_are_not_merged_by_one_id() -> None:
    kept = _trusted(_uses("dblp:117/2756", ["Zhuoran Yang", "Zhaoran Wang"]))
    assert "x0#0" not in kept


def test_the_usual_variants_of_one_name_keep_the_id() -> None:
    variants = ["Yuxiang Wang", "Y. Wang", "Yu-Xiang Wang", "Wang Yuxiang", "Yuxiang Wamg",
                "Yuxiang A. Wang", "Yu Wang"]  # fmt: skip
    kept = _trusted(_uses("dblp:1/1", variants))
    assert {f"x{i}#0" for i in range(len(variants) - 1)} <= kept
