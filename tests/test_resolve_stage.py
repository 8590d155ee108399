"""The resolve stage on a small authorships table: the affiliations table, the join, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from talentflow.context import StageContext
from talentflow.engines import connect
from talentflow.pipeline import STAGES
from talentflow.resolve import stage
from talentflow.resolve.stage import norm_key

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

ROWS = [
    # (authorship_id, raw_affiliation, email_domain)
    ("p1#0", "Tencent AI Lab, Seattle", "tencent.com"),
    ("p1#1", "Tencent AI Lab, Seattle", "tencent.com"),
    ("p1#2", "Microsoft Research Asia", None),
    ("p2#0", "Department of Computer Science", "cs.stanford.edu"),
    ("p2#1", "Department of Computer Science", "gmail.com"),
    ("p2#2", None, None),
    ("p3#0", "IIIS, Tsinghua University+MIT CSAIL", "tsinghua.edu.cn"),
    ("p3#1", "iiis,  TSINGHUA University + MIT CSAIL", "Tsinghua.edu.cn"),
]


def _authorships() -> pa.Table:
    n = len(ROWS)
    return pa.table(
        {
            "authorship_id": [r[0] for r in ROWS],
            "paper_id": [r[0].split("#")[0] for r in ROWS],
            "venue": ["nips"] * n,
            "year": [2020] * n,
            "author_position": [int(r[0].split("#")[1]) for r in ROWS],
            "author_name": [f"A{i}" for i in range(n)],
            "raw_affiliation": [r[1] for r in ROWS],
            "email_domain": [r[2] for r in ROWS],
            "label_country": [None] * n,
        },
        schema=pa.schema(
            [
                ("authorship_id", pa.string()),
                ("paper_id", pa.string()),
                ("venue", pa.string()),
                ("year", pa.int64()),
                ("author_position", pa.int64()),
                ("author_name", pa.string()),
                ("raw_affiliation", pa.string()),
                ("email_domain", pa.string()),
                ("label_country", pa.string()),
            ]
        ),
    )


def _ctx(con, previous=None) -> StageContext:
    return StageContext(con=con, previous=previous, data_dir=SHARED_DATA)


@pytest.fixture
def built(con):
    """The stage run on ``authorships`` on each engine (``con`` of tests/conftest.py)."""
    con.create_table("authorships", _authorships())
    stage.run(_ctx(con))
    return con


def test_stage_is_registered_after_sources():
    names = [name for name, _ in STAGES]
    assert ("resolve", "talentflow.resolve.stage") in STAGES
    assert names.index("resolve") == names.index("sources") + 1


def test_affiliations_table_one_row_per_distinct_pair(built):
    aff = built.table("affiliations").to_pyarrow().to_pylist()
    pairs = {(r[1], r[2]) for r in ROWS}
    assert len(aff) == len(pairs)
    assert {(r["raw_affiliation"], r["email_domain"]) for r in aff} == pairs
    expected = {
        "raw_affiliation",
        "email_domain",
        "norm_key",
        "institution",
        "institution_id",
        "country",
        "countries",
        "sector",
        "confidence",
        "evidence",
        "method",
    }
    assert expected <= set(built.table("affiliations").columns)
    by = {(r["raw_affiliation"], r["email_domain"]): r for r in aff}
    assert by[("Tencent AI Lab, Seattle", "tencent.com")]["country"] == "US"
    assert by[("Microsoft Research Asia", None)]["country"] == "CN"
    assert by[("Department of Computer Science", "gmail.com")]["country"] is None
    multi = by[("IIIS, Tsinghua University+MIT CSAIL", "tsinghua.edu.cn")]
    assert multi["countries"] == ["CN", "US"]
    assert 0 < multi["confidence"] <= 1 and multi["evidence"]


def test_authorships_keep_rows_and_columns_and_gain_resolution(built):
    t = built.table("authorships")
    for col in (
        "authorship_id",
        "label_country",
        "institution",
        "institution_id",
        "country",
        "sector",
    ):
        assert col in t.columns
    rows = {r["authorship_id"]: r for r in t.to_pyarrow().to_pylist()}
    assert len(rows) == len(ROWS)
    assert rows["p1#0"]["country"] == rows["p1#1"]["country"] == "US"
    assert rows["p2#0"]["country"] == "US" and rows["p2#1"]["country"] is None
    assert rows["p2#2"]["country"] is None
    assert rows["p3#0"]["institution"] == "Tsinghua University"
    # the resolved columns come last, in order; the parts after the first stay in affiliations
    assert t.columns[-len(stage.JOINED) :] == stage.JOINED
    assert t.columns[: -len(stage.JOINED)] == tuple(_authorships().schema.names)
    assert "other_parts" not in t.columns


def test_authorships_match_affiliations_on_the_pair_null_included(built):
    """Every slot carries the resolution of its (raw_affiliation, email_domain) row, the
    rows with a NULL in either matched too (a NULL pair is one pair, not "no match")."""
    aff = {
        (r["raw_affiliation"], r["email_domain"]): r
        for r in built.table("affiliations").to_pyarrow().to_pylist()
    }
    for row in built.table("authorships").to_pyarrow().to_pylist():
        want = aff[(row["raw_affiliation"], row["email_domain"])]
        assert {c: row[c] for c in stage.JOINED} == {c: want[c] for c in stage.JOINED}
    # the NULL domain of "Microsoft Research Asia" still found its row
    assert aff[("Microsoft Research Asia", None)]["country"] == "CN"


def test_build_params_recorded(built):
    bp = built.table("build_params").to_pyarrow().to_pylist()
    mine = {r["name"]: json.loads(r["value"]) for r in bp if r["stage"] == "resolve"}
    assert mine["distinct_pairs"] == len({(r[1], r[2]) for r in ROWS})
    assert mine["gazetteer"]


def test_rebuild_reuses_cached_resolutions(tmp_path, built):
    # Plant a sentinel in the "previous" store: if it comes back, the row was reused, not
    # recomputed.
    prev_path = tmp_path / "prev.duckdb"
    prev = connect(prev_path)
    aff = built.table("affiliations").to_pyarrow()
    key = norm_key("Microsoft Research Asia", None)
    inst = [
        "SENTINEL" if k == key else v
        for k, v in zip(
            aff.column("norm_key").to_pylist(), aff.column("institution").to_pylist(), strict=True
        )
    ]
    aff = aff.set_column(aff.schema.get_field_index("institution"), "institution", pa.array(inst))
    prev.create_table("affiliations", aff)
    prev.create_table("build_params", built.table("build_params").to_pyarrow())
    prev.disconnect()
    previous = connect(prev_path, read_only=True)
    con = connect(tmp_path / "b.duckdb")
    rows = [*ROWS, ("p9#0", "Google Research, Zurich", None)]
    tbl = _authorships()
    extra = {c: [None] for c in tbl.column_names}
    extra.update(
        authorship_id=["p9#0"],
        paper_id=["p9"],
        venue=["nips"],
        year=[2020],
        author_position=[0],
        author_name=["Z"],
        raw_affiliation=[rows[-1][1]],
    )
    con.create_table("authorships", pa.concat_tables([tbl, pa.table(extra, schema=tbl.schema)]))
    stage.run(_ctx(con, previous))
    out = {r["raw_affiliation"]: r for r in con.table("affiliations").to_pyarrow().to_pylist()}
    assert out["Microsoft Research Asia"]["institution"] == "SENTINEL"
    assert out["Google Research, Zurich"]["country"] == "CH"
    bp = con.table("build_params").to_pyarrow().to_pylist()
    mine = {r["name"]: json.loads(r["value"]) for r in bp if r["stage"] == "resolve"}
    assert mine["keys_resolved"] == 1  # only the new string
    # the two spellings of the Tsinghua pair share one norm_key
    assert norm_key("IIIS, Tsinghua University+MIT CSAIL", "tsinghua.edu.cn") == norm_key(
        "iiis,  TSINGHUA University + MIT CSAIL", "Tsinghua.edu.cn"
    )
    previous.disconnect()
    con.disconnect()


def test_stage_runs_twice_on_same_connection(built):
    # Re-running replaces the added columns instead of duplicating them.
    stage.run(_ctx(built))
    cols = built.table("authorships").columns
    assert cols.count("country") == 1
    assert cols[-len(stage.JOINED) :] == stage.JOINED
    assert ibis.to_sql(built.table("authorships").count()) is not None


def test_rerun_drops_other_parts_an_older_stage_put_on_authorships(con):
    """A store resolved before ``other_parts`` moved out keeps no stale copy of it."""
    old = _authorships()
    parts = pa.array([[] for _ in ROWS], pa.list_(stage.PART))
    con.create_table("authorships", old.append_column("other_parts", parts))
    stage.run(_ctx(con))
    assert "other_parts" not in con.table("authorships").columns
    assert con.table("authorships").count().execute() == len(ROWS)
