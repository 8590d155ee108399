"""u counts of the array comparisons from shared elements equal splink's own counts."""

from __future__ import annotations

import json
import random

import ibis
import pytest
from splink import Linker

from talentflow.identity import model
from talentflow.identity.overlap_counts import array_u_counts, level_counts, overlap_histogram

_WORDS = ["graph", "vision", "speech", "robot", "proof", "kernel", "bandit", "policy"]
_PEOPLE = ["wei wang", "ana ruiz", "li na", "tom fox", "eva lind", "ian poe"]


def _entities(n: int, seed: int) -> ibis.Table:
    """Entity rows shaped as the linkage's: names, lists of every size (NULL included)."""
    rng = random.Random(seed)

    def some(pool: list[str], most: int) -> list[str] | None:
        k = rng.randint(0, most)
        return None if k == 0 else rng.sample(pool, k)

    rows = []
    for i in range(n):
        first, last = rng.choice(_PEOPLE).split()
        year = rng.randint(2015, 2023)
        rows.append(
            {
                "entity_id": f"e{i:03d}",
                "is_cluster": i % 3 == 0,
                "name_fl": f"{first} {last}",
                "name_fl_swapped": f"{last} {first}",
                "first": first,
                "last": last,
                "initial_only": False,
                "bk_init": f"{last} {first[0]}",
                "name_variants": [f"{first} {last}"],
                "coauthors": some(_PEOPLE, 4),
                "institutions": some(["mit", "eth", "kaist"], 1),
                # never NULL, never shared: a level no pair reaches
                "domains": [f"d{i}.org"],
                "countries": some(["ch", "us"], 2),
                "venues": some(["icml", "acl"], 1),
                "year_min": year,
                "year_max": year + rng.randint(0, 3),
                "topics": some(_WORDS, 5),
            }
        )
    schema = {
        **dict.fromkeys(("entity_id", "name_fl", "name_fl_swapped", "first", "last"), "string"),
        "bk_init": "string",
        "is_cluster": "boolean",
        "initial_only": "boolean",
        "year_min": "int64",
        "year_max": "int64",
        **dict.fromkeys(
            (
                "name_variants",
                "coauthors",
                "institutions",
                "domains",
                "countries",
                "venues",
                "topics",
            ),
            "array<string>",
        ),
    }
    return ibis.memtable(rows, schema=schema)


def _u_model(con, table: str, arrays: dict) -> dict:
    api = model.db_api(con)
    trainer = Linker(api.register(table), model.settings(0.01), log_level=None)
    n = con.table(table).count().execute()
    with array_u_counts(con, arrays):
        trainer.training.estimate_u_using_random_sampling(
            max_pairs=float(n * n), min_count_per_level=None, num_chunks=1
        )
    out = trainer.misc.save_model_to_json()
    api.delete_tables_created_by_splink_from_db()
    out.pop("linker_uid")
    return out


def test_level_counts_split_pairs_by_first_level_reached() -> None:
    # 5 arrays: 10 pairs; 3 share one element, 2 share two, 1 shares four
    assert level_counts(5, {1: 3, 2: 2, 4: 1}, [3, 1]) == [1, 5, 4]
    assert level_counts(5, {1: 3, 2: 2, 4: 1}, [2, 1]) == [3, 3, 4]
    assert level_counts(5, {}, [1]) == [0, 10]
    assert level_counts(0, {}, [1]) == [0, 0]


def test_overlap_histogram_counts_each_pair_once(con) -> None:
    t = con.create_table(
        "s",
        ibis.memtable(
            {
                "id": ["a", "b", "c", "d"],
                "xs": [["p", "q", "q"], ["q", "p"], None, ["r"]],
            },
            schema={"id": "string", "xs": "array<string>"},
        ),
    )
    # a-b share p and q (q twice in a: counted once); c is NULL; d shares nothing
    assert overlap_histogram(t, "id", "xs") == (3, {2: 1})


@pytest.mark.parametrize("seed", [1, 2])
def test_u_from_shared_elements_equals_splinks_own(con, seed: int, monkeypatch) -> None:
    from talentflow.identity import overlap_counts

    counted: list[str] = []

    def histogram(sample, id_column, column):
        counted.append(column)
        return overlap_histogram(sample, id_column, column)

    monkeypatch.setattr(overlap_counts, "overlap_histogram", histogram)
    con.create_table("ents", _entities(60, seed))
    arrays = {column: (column, sizes) for column, sizes, _ in model.ARRAY_COMPARISONS}
    ours = _u_model(con, "ents", arrays)
    # every array comparison was counted here, none left to splink
    assert sorted(counted) == sorted(arrays)
    theirs = _u_model(con, "ents", {})
    assert len(counted) == len(arrays)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)
    # the test data reach the overlap levels (else the comparison would be trivial)
    coauthors = next(c for c in ours["comparisons"] if c["output_column_name"] == "coauthors")
    u = [lvl.get("u_probability") for lvl in coauthors["comparison_levels"][1:]]
    assert all(isinstance(x, float) and 0 < x < 1 for x in u), u
