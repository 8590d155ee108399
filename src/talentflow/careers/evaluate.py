"""Scoring detected moves against simulated ground truth (:mod:`talentflow.careers.simulate`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MOVE_KINDS = ("migration", "return")


@dataclass(frozen=True)
class MoveScore:
    """Precision and recall of international moves (migration or return)."""

    precision: float
    recall: float
    n_detected: int
    n_true: int
    kind_accuracy: float  # among matched moves, share whose kind (migration/return) agrees


def score_moves(detected: pd.DataFrame, truth: pd.DataFrame, *, tolerance: int = 1) -> MoveScore:
    """Score detected country-level moves against true ones.

    A detected move (kind ``migration`` or ``return``) is correct when the same person has a
    true move (migration or return) into the same country within ``tolerance`` years. Recall is
    computed over the true moves marked ``observable`` (papers before and after the move exist);
    true temporary visits never count as moves, so a visit detected as a move is a false
    positive.
    """
    det = detected[detected["kind"].isin(MOVE_KINDS)][
        ["person_id", "year", "kind", "to_country"]
    ].reset_index(drop=True)
    true = truth[truth["kind"].isin(MOVE_KINDS)][
        ["person_id", "year", "kind", "to_country", "observable"]
    ].reset_index(drop=True)
    pairs = det.reset_index().merge(
        true.reset_index(), on=["person_id", "to_country"], suffixes=("_d", "_t")
    )
    pairs = pairs[(pairs["year_d"] - pairs["year_t"]).abs() <= tolerance]
    hit_det = set(pairs["index_d"])
    hit_true = set(pairs["index_t"])
    observable = true.index[true["observable"]]
    n_obs = len(observable)
    recall = len(hit_true & set(observable)) / n_obs if n_obs else 1.0
    precision = len(hit_det) / len(det) if len(det) else 1.0
    best = pairs.assign(gap=(pairs["year_d"] - pairs["year_t"]).abs()).sort_values("gap")
    best = best.drop_duplicates("index_d")
    kind_acc = float((best["kind_d"] == best["kind_t"]).mean()) if len(best) else 1.0
    return MoveScore(precision, recall, len(det), n_obs, kind_acc)
