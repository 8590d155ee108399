"""Small synthetic careers tables (``person_years``, ``events``) for tests and benchmarks.

Unlike :func:`talentflow.careers.simulate.simulate_careers`, which renders papers for the event
detector, this writes the careers tables directly, vectorised over persons, so tests of the
scenario model stay fast. Moves follow a logit hazard and a destination choice proportional to
country weights, with a strong pull back to the first country; researchers enter and leave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRIES = ("US", "CN", "GB", "DE", "CA", "FR", "JP", "IN")
WEIGHTS = np.array([0.36, 0.24, 0.09, 0.08, 0.07, 0.06, 0.05, 0.05])


def synthetic_careers(
    n_persons: int = 3000,
    *,
    seed: int = 0,
    start_year: int = 2005,
    end_year: int = 2024,
    move_rate: float = 0.05,
    exit_rate: float = 0.08,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(person_years, events)`` with the contract columns the scenario model reads.

    Examples
    --------
    >>> py, ev = synthetic_careers(200, seed=1)
    >>> set(ev["kind"]) <= {"migration", "return"}
    True
    """
    rng = np.random.default_rng(seed)
    K = len(COUNTRIES)
    w = WEIGHTS / WEIGHTS.sum()
    entry = rng.integers(start_year, end_year, size=n_persons)
    entry[: n_persons // 4] = start_year  # a stock present from the start
    origin = rng.choice(K, size=n_persons, p=w)
    country = origin.copy()
    sector = rng.choice(
        np.array(["education", "company", "facility"]), size=n_persons, p=[0.65, 0.3, 0.05]
    )
    stage = rng.choice(
        np.array(["student", "postdoc", "faculty", "industry", ""]),
        size=n_persons,
        p=[0.3, 0.1, 0.2, 0.1, 0.3],
    )
    active = np.zeros(n_persons, dtype=bool)
    left = np.zeros(n_persons, dtype=bool)
    py_parts, ev_parts = [], []
    for year in range(start_year, end_year + 1):
        newly = (entry == year) & ~left
        # leave the corpus, then move (only those who stay active can be seen moving)
        exits = active & (rng.random(n_persons) < exit_rate)
        left |= exits
        active = (active & ~exits) | newly
        movers = active & ~newly & (rng.random(n_persons) < move_rate * (1 + (stage == "student")))
        idx = np.flatnonzero(movers)
        if len(idx):
            util = np.log(np.broadcast_to(w, (len(idx), K))).copy()
            abroad = country[idx] != origin[idx]
            util[np.flatnonzero(abroad), origin[idx][abroad]] += 2.0
            util[np.arange(len(idx)), country[idx]] = -np.inf
            g = rng.gumbel(size=util.shape)
            dest = np.argmax(util + g, axis=1)
            kind = np.where(dest == origin[idx], "return", "migration")
            ev_parts.append(
                pd.DataFrame(
                    {
                        "person_id": [f"S{i:06d}" for i in idx],
                        "year": year,
                        "level": "country",
                        "kind": kind,
                        "from_country": np.asarray(COUNTRIES)[country[idx]],
                        "to_country": np.asarray(COUNTRIES)[dest],
                    }
                )
            )
            country[idx] = dest
        a = np.flatnonzero(active)
        py_parts.append(
            pd.DataFrame(
                {
                    "person_id": [f"S{i:06d}" for i in a],
                    "year": year,
                    "country": np.asarray(COUNTRIES)[country[a]],
                    "sector": sector[a],
                    "career_stage": np.where(stage[a] == "", None, stage[a]),  # type: ignore[call-overload]
                }
            )
        )
        # some academics switch to industry at home
        sw = active & (sector == "education") & (rng.random(n_persons) < 0.02)
        sector[sw] = "company"
    person_years = pd.concat(py_parts, ignore_index=True)
    events = (
        pd.concat(ev_parts, ignore_index=True)
        if ev_parts
        else pd.DataFrame(
            columns=["person_id", "year", "level", "kind", "from_country", "to_country"]
        )
    )
    return person_years, events
