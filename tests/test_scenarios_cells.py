"""The counts the move model is fitted on, computed in the engine, equal the per-row counts.

The reference here is the per-row derivation the model used before its inputs moved to the
engine (one pandas row per person-year: sort, first year and country per person, the next
year's row, the move dated the next year), counted per cell with pandas. Inputs carry the
awkward cases: a duplicated person-year, missing sectors and stages, LLM tags, a gap year, a
move without a destination and two moves dated the same year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from talentflow.scenarios import cells
from talentflow.scenarios.choice import fit_conditional_logit
from talentflow.scenarios.frames import SECTOR_MAP, STAGE_MAP, panel_from_frames
from talentflow.scenarios.levers import SECTORS, STAGES
from talentflow.scenarios.model import choose_groups
from talentflow.scenarios.synthetic import synthetic_careers


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    py, ev = synthetic_careers(400, seed=2)
    py = py.copy()
    rng = np.random.default_rng(0)
    py["llm"] = pd.array(rng.random(len(py)) < 0.2, dtype="boolean")
    py.loc[py.index[::7], "llm"] = pd.NA
    py.loc[py.index[::11], "sector"] = None
    py.loc[py.index[::13], "career_stage"] = "emeritus"  # not a model stage: "other"
    # the same person-year twice, in another country (the first in sort order is kept)
    dup = py.iloc[[5]].assign(country="AA")
    # a gap year: drop the middle year of a long career
    counts = py.groupby("person_id")["year"].transform("size")
    pid = py.loc[counts >= 5, "person_id"].iloc[0]
    years = sorted(py.loc[py["person_id"] == pid, "year"])
    py = py[~((py["person_id"] == pid) & (py["year"] == years[2]))]
    py = pd.concat([py, dup], ignore_index=True)
    ev = ev.copy()
    first = ev.iloc[0]
    extra = pd.DataFrame(
        [
            {**first.to_dict(), "to_country": None},  # no destination: not a move
            {**first.to_dict(), "to_country": "ZZ"},  # a second move the same year
        ]
    )
    return py, pd.concat([ev, extra], ignore_index=True)


def _reference_rows(py: pd.DataFrame, ev: pd.DataFrame) -> pd.DataFrame:
    """One pandas row per person-year, derived as the model did before (per row)."""
    rows = py[py["country"].notna()].copy()
    rows["llm"] = rows["llm"].astype("boolean").fillna(False).astype(bool)
    rows["sector"] = rows["sector"].map(SECTOR_MAP).fillna("other")
    rows["stage"] = rows["career_stage"].map(STAGE_MAP).fillna("other")
    rows = rows.sort_values(["person_id", "year", "country"]).drop_duplicates(
        ["person_id", "year"], keep="first"
    )
    first = rows.groupby("person_id").agg(
        first_year=("year", "min"), first_country=("country", "first")
    )
    rows = rows.join(first, on="person_id")
    nxt = rows[["person_id", "year", "country", "sector"]].assign(year=lambda d: d["year"] - 1)
    nxt = nxt.rename(columns={"country": "next_country", "sector": "next_sector"})
    rows = rows.merge(nxt, on=["person_id", "year"], how="left")
    rows["has_next"] = rows["next_country"].notna()
    mv = ev[ev["to_country"].notna()].sort_values(["person_id", "year", "to_country"])
    mv = mv.drop_duplicates(["person_id", "year"])
    mv = mv[["person_id", "year", "to_country"]].assign(year=lambda d: d["year"] - 1)
    rows = rows.merge(mv, on=["person_id", "year"], how="left")
    rows["moved"] = rows["to_country"].notna() & rows["has_next"]
    return rows.reset_index(drop=True)


def _code(values: pd.Series, levels: list[str] | tuple[str, ...], other: int) -> np.ndarray:
    return values.map({v: i for i, v in enumerate(levels)}).fillna(other).to_numpy(np.int64)


def _ties(rows: pd.DataFrame, who: pd.DataFrame, groups: list[str]) -> np.ndarray:
    """Bit set of the named groups each ``who`` row's person was in up to its year, other
    than its current and first group."""
    since = rows.groupby(["person_id", "country"], as_index=False)["year"].min()
    since["g"] = _code(since["country"], groups[:-1], len(groups) - 1)
    out = np.zeros(len(who), dtype=np.int64)
    for i, r in enumerate(who.itertuples()):
        mine = since[(since["person_id"] == r.person_id) & (since["year"] <= r.year)]
        gs = set(mine["g"]) - {r.C, r.O, len(groups) - 1}
        out[i] = sum(1 << int(g) for g in gs)
    return out


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_engine_cells_equal_per_row_counts(con, frames):
    py, ev = frames
    panel = panel_from_frames(py, ev, con=con)
    groups = choose_groups(panel, 4)
    oth = len(groups) - 1
    ref = _reference_rows(py, ev)
    assert panel.stock()["n"].sum() == len(ref)
    assert panel.last_year == ref["year"].max() and panel.first_year == ref["year"].min()

    r = ref.assign(
        C=_code(ref["country"], groups[:-1], oth),
        O=_code(ref["first_country"], groups[:-1], oth),
        abroad=(ref["country"] != ref["first_country"]).astype(np.int64),
        S=_code(ref["sector"], SECTORS, len(SECTORS) - 1),
        G=_code(ref["stage"], STAGES, len(STAGES) - 1),
        L=ref["llm"].astype(np.int64),
        A=np.searchsorted(np.asarray(cells.AGE_EDGES), ref["year"] - ref["first_year"], "right"),
        first=ref["year"] == ref["first_year"],
    )
    r["J"] = np.where(r["moved"], _code(r["to_country"], groups[:-1], oth), -1)
    r["stay"] = r["has_next"] & (r["next_country"] == r["country"])
    r["NS"] = np.where(r["stay"], _code(r["next_sector"], SECTORS, len(SECTORS) - 1), -1)
    keys = ["C", "O", "abroad", "S", "G", "L", "A", "first", "year"]
    keys += ["has_next", "moved", "J", "stay", "NS"]
    expected = r.groupby(keys).size().rename("n").reset_index()
    got = cells.person_year_cells(panel.rows, groups)
    pd.testing.assert_frame_equal(_sorted(got[[*keys, "n"]]), _sorted(expected), check_dtype=False)
    # the gap year ends a spell: that person-year is not at risk of a move
    assert (~r["has_next"] & (r["year"] < panel.last_year)).any()

    # person-years at T, per current and first group and earlier affiliations
    T = panel.last_year
    at_T = r[r["year"] == T].reset_index(drop=True)
    at_T["ties"] = _ties(ref, at_T, groups)
    exp_ties = at_T.groupby(["C", "O", "ties"]).size().rename("n").reset_index()
    got_ties = cells.tie_cells(panel.rows, groups, T)
    pd.testing.assert_frame_equal(_sorted(got_ties), _sorted(exp_ties), check_dtype=False)
    assert (got_ties["ties"] > 0).any()

    # moves of the destination choice, and the per-person pair counts
    fit_end = T - 1
    mv = r[r["moved"] & (r["year"] < fit_end)]
    mv = mv[~((mv["J"] == mv["C"]) & (mv["C"] != oth))].reset_index(drop=True)
    mv["ties"] = _ties(ref, mv, groups)
    ck = ["C", "O", "J", "year", "ties"]
    exp_cells = mv.groupby(ck).size().rename("n").reset_index()
    got_cells, got_pairs = cells.choice_cells(panel.rows, groups, fit_end)
    pd.testing.assert_frame_equal(_sorted(got_cells), _sorted(exp_cells), check_dtype=False)
    per = mv.groupby(["person_id", *ck]).size().rename("k").reset_index()
    ab = per.merge(per, on="person_id", suffixes=("_a", "_b"))
    ab["n"] = ab["k_a"] * ab["k_b"]
    exp_pairs = ab.groupby([f"{c}_{s}" for s in "ab" for c in ck])["n"].sum().reset_index()
    pd.testing.assert_frame_equal(_sorted(got_pairs), _sorted(exp_pairs), check_dtype=False)
    # some person moved in two cells: the pair counts are more than the cells' counts
    assert (per.groupby("person_id").size() > 1).any()

    # flows per raw country pair and year
    flows = panel.flows()
    mvs = ev[ev["to_country"].notna()].sort_values(["person_id", "year", "to_country"])
    mvs = mvs.drop_duplicates(["person_id", "year"])
    assert flows["n"].sum() == len(mvs)
    # of two moves dated the same year the first destination in sort order is kept
    assert "ZZ" not in set(flows["to_country"])


def test_cut_counts_equal_per_row_counts_of_the_cut_inputs(frames):
    py, ev = frames
    panel = panel_from_frames(py, ev)
    T = panel.last_year - 4
    cut = panel.cut(T)
    ref = _reference_rows(py[py["year"] <= T], ev[ev["year"] <= T])
    groups = choose_groups(cut, 3)
    got = cells.person_year_cells(cut.rows, groups)
    assert got["n"].sum() == len(ref)
    assert int(got.loc[got["moved"], "n"].sum()) == int(ref["moved"].sum())
    assert int(got.loc[got["has_next"], "n"].sum()) == int(ref["has_next"].sum())
    # nothing at T is at risk after the cut (its next year is not seen)
    assert not got.loc[got["year"] == T, "has_next"].any()
    assert cut.stock()["year"].max() == T and cut.flows()["year"].max() <= T


def test_weighted_cells_fit_equals_the_per_move_fit_with_person_clusters():
    rng = np.random.default_rng(1)
    n_cells, J, k = 30, 4, 4
    X = np.zeros((n_cells, J, k))
    for j in range(1, J):
        X[:, j, j - 1] = 1.0
    X[:, :, 3] = rng.random((n_cells, J)) < 0.4
    avail = np.ones((n_cells, J), dtype=bool)
    avail[np.arange(n_cells), rng.integers(0, J, n_cells)] = False
    chosen = np.array([rng.choice(np.flatnonzero(a)) for a in avail])
    # 120 moves of 70 persons, each move in one of the cells
    cell = rng.integers(0, n_cells, 120)
    person = rng.integers(0, 70, 120)
    long = sp.csr_matrix(X[cell].reshape(-1, k))
    per_move = fit_conditional_logit(long, chosen[cell], avail[cell], clusters=person)
    w = np.bincount(cell, minlength=n_cells)
    used = np.flatnonzero(w)
    index = np.full(n_cells, -1)
    index[used] = np.arange(len(used))
    counts = pd.DataFrame({"p": person, "c": index[cell]}).value_counts().reset_index()
    ab = counts.merge(counts, on="p", suffixes=("_a", "_b"))
    pairs = sp.csr_matrix(
        (ab["count_a"] * ab["count_b"], (ab["c_a"], ab["c_b"])), shape=(len(used), len(used))
    )
    per_cell = fit_conditional_logit(
        sp.csr_matrix(X[used].reshape(-1, k)),
        chosen[used],
        avail[used],
        weights=w[used],
        cluster_pairs=pairs,
    )
    np.testing.assert_allclose(per_cell.params, per_move.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(per_cell.cov, per_move.cov, rtol=1e-7, atol=1e-12)
    assert per_cell.loglike == pytest.approx(per_move.loglike, rel=1e-10)
