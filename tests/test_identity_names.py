"""Name keys and identifier union (no splink, fast)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from talentflow.identity.identifiers import components
from talentflow.identity.names import keys_for, name_from_openreview_id, tokens


def test_transliteration_and_hyphenated_given_names() -> None:
    assert tokens("Bernhard Schölkopf") == tokens("Bernhard Scholkopf")
    assert tokens("Jun-Yan Zhu") == tokens("Junyan Zhu")
    assert tokens("Łukasz Kaiser") == ["lukasz", "kaiser"]


def test_unspaced_cjk_name_is_read_surname_first() -> None:
    # 江常皓 is Jiang (surname) Changhao (given): it meets its Latin spelling.
    assert keys_for("江常皓")["name_fl"] == keys_for("Changhao Jiang")["name_fl"]


def test_initials_and_middle_names_share_the_blocking_key() -> None:
    full = keys_for("Joshua B. Tenenbaum")
    short = keys_for("J. Tenenbaum")
    assert full["name_fl"] == "joshua tenenbaum"
    assert short["initial_only"] is True
    assert full["bk_init"] == short["bk_init"] == "tenenbaum j"


def test_swapped_order_keys_meet() -> None:
    assert keys_for("Liu Yang")["name_fl"] == keys_for("Yang Liu")["name_fl_swapped"]


def test_openreview_id_spells_a_name() -> None:
    assert name_from_openreview_id("openreview:~Bruce_W_McIntosh1") == "Bruce W McIntosh"
    assert name_from_openreview_id("acl:/x/name/") is None


def test_empty_names_give_null_keys() -> None:
    assert keys_for("")["name_fl"] is None
    assert keys_for(None)["bk_init"] is None


def test_components_are_transitive_and_keyed_by_smallest_node() -> None:
    pairs = pa.table({"a": ["b", "c", "x"], "b": ["a", "b", "y"]})
    comp = {r["node"]: r["component"] for r in components(pairs).to_pylist()}
    assert comp == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=30))
def test_components_match_a_reference_union_find(edges: list[tuple[int, int]]) -> None:
    names = [(f"n{a:02d}", f"n{b:02d}") for a, b in edges]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in names:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    table = pa.table({"a": [a for a, _ in names], "b": [b for _, b in names]})
    got = {r["node"]: r["component"] for r in components(table).to_pylist()}
    assert got == {n: find(n) for n in got}
    # Every component key is the smallest member.
    for node, comp in got.items():
        assert comp <= node


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=30))
def test_component_numbers_are_as_distinct_as_component_keys(
    edges: list[tuple[int, int]],
) -> None:
    # The entity aggregates group by the number instead of the key: one number per key.
    table = pa.table({"a": [f"n{a:02d}" for a, _ in edges], "b": [f"n{b:02d}" for _, b in edges]})
    rows = components(table, number=True).to_pylist()
    assert [r["component"] for r in rows] == [r["component"] for r in components(table).to_pylist()]
    pairs = {(r["component"], r["component_number"]) for r in rows}
    assert len({k for k, _ in pairs}) == len(pairs) == len({n for _, n in pairs})


#: Names of every kind the engine path must read as :func:`keys_for` does, and names it must
#: leave to Python (non-ASCII, brackets, control characters).
_TRICKY = [
    "Wei Wang",
    "J.-Y. Zhu",
    "Jun - Yan  Zhu",
    "Joshua B. Tenenbaum",
    "O'Neil, Cathy",
    "A. B. C.",
    "  Leading and trailing  ",
    "x",
    "...",
    "",
    "-",
    "Anne-Marie- -Smith",
    "Mc3Donald R2D2",
    "HAN Song_Two~",
    "Yann LeCun (NYU)",
    "Bernhard Schölkopf",
    "江常皓",
    "tab\tname",
    "[Bot] Agent",
    None,
]


def test_engine_name_keys_equal_python_keys(con) -> None:
    import ibis

    from talentflow.identity.features import name_table
    from talentflow.identity.names import is_plain, plain_keys

    t = con.create_table(
        "authors", ibis.memtable({"author_name": _TRICKY}, schema={"author_name": "string"})
    )
    plain = t.filter(is_plain(t.author_name).fill_null(False))
    got = {r["author_name"]: r for r in plain_keys(plain).to_pyarrow().to_pylist()}
    # the plain ones are computed in the engine; the rest are not plain
    assert "Bernhard Schölkopf" not in got and "Yann LeCun (NYU)" not in got
    assert "tab\tname" not in got and "[Bot] Agent" not in got
    assert len(got) == 14
    for name, row in got.items():
        assert row == keys_for(name), name
    # the whole table: every distinct name once, each with its Python keys
    rows = name_table(con, t).to_pyarrow().to_pylist()
    assert sorted(rows, key=lambda r: str(r["author_name"])) == sorted(
        (keys_for(n) for n in _TRICKY), key=lambda r: str(r["author_name"])
    )
