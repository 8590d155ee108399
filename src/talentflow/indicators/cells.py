"""What every indicator table shares: sentinels for pooled years and unknown origins, the
builder that turns bootstrap results into a table, and lookups on the panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.panel import Panel

POOLED = -1  # sentinel for "all years / all cohorts" (NULL in the output)
UNKNOWN = "??"  # sentinel for an unknown origin (NULL in the output)
ALL = "ALL"  # origin_work margin: all origins
STAGE_PREFIX = "stage:"  # country_year subsets by career stage
TOP = "top"  # the subset of authors of top-tier papers


# --------------------------------------------------------------------------- helpers


@dataclass
class _Builder:
    """Cells of one table, its bootstrap spec, and how to lay out the final frame."""

    keys: pd.DataFrame
    spec: bs.Spec
    count: str  # the count that decides suppression
    order: list[str]  # output statistics, in column order
    ci_names: dict[str, str]  # statistic -> prefix of its interval columns ("" = ci_low)
    keep: str | None = None  # drop rows where this statistic is 0 (no data)
    post: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None  # after suppression

    def finish(self, res: bs.Result, min_cell: int) -> pd.DataFrame:
        df = self.keys.copy()
        for stat in self.order:
            df[stat] = res.point[stat]
            if stat in self.ci_names:
                prefix = self.ci_names[stat]
                df[f"{prefix}ci_low"] = res.low[stat]
                df[f"{prefix}ci_high"] = res.high[stat]
        if self.keep is not None:
            df = df[df[self.keep] > 0]
        suppressed = (df[self.count] < min_cell).to_numpy()
        df["suppressed"] = suppressed
        value_cols = [c for c in df.columns if c not in self.keys.columns and c != "suppressed"]
        df[value_cols] = df[value_cols].astype(float)
        df.loc[suppressed, value_cols] = np.nan
        if self.post is not None:
            df = self.post(df, min_cell)
        return _restore_nulls(df.reset_index(drop=True))


def _restore_nulls(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("year", "cohort_year"):
        if col in df.columns:
            df[col] = df[col].astype("Int64").mask(df[col] == POOLED)
    for col in ("origin_country",):
        if col in df.columns:
            df[col] = df[col].mask(df[col] == UNKNOWN, None)
    return df


def _with_subsets(frame: pd.DataFrame, subsets: dict[str, np.ndarray]) -> pd.DataFrame:
    # the subset column is a categorical (a code per row, not a string)
    names = sorted(subsets)
    parts = []
    for name, mask in subsets.items():
        sub = frame[mask[frame["pidx"].to_numpy()]] if len(frame) else frame
        parts.append(sub.assign(subset=_constant(name, names)))
    return pd.concat(parts, ignore_index=True)


def _pooled(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    return pd.concat([frame, frame.assign(**{col: POOLED})], ignore_index=True)


def _lookup(values: pd.Series, keys: Any) -> np.ndarray:
    """Position of each value in ``keys`` (distinct), -1 where absent.

    Hashed by Arrow, which is several times faster than pandas on millions of strings; values
    Arrow cannot type alike (e.g. mixed types in a frame built by hand) go through pandas.
    """
    try:
        found = pc.index_in(
            pa.array(values.to_numpy(dtype=object)), value_set=pa.array(np.asarray(keys))
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Index(keys).get_indexer(values)
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _panel_pidx(frame: pd.DataFrame, panel: Panel) -> np.ndarray:
    """The pidx of each row's person (-1: not in the panel).

    By ``person_key`` when both the frame and the panel have it (integers), else by hashing
    ``person_id`` against the panel's persons.
    """
    if "person_key" not in frame.columns or panel.pidx_of_key is None:
        return _lookup(frame["person_id"], panel.persons)
    key = frame["person_key"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(key) & (key >= 0) & (key < len(panel.pidx_of_key))
    return np.where(ok, panel.pidx_of_key[np.where(ok, key, 0).astype(np.int64)], -1)


def _authorships(
    authorships: pd.DataFrame | None,
    panel: Panel,
    subfields: pd.DataFrame,
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Authorships of panel persons: ``pidx, population, year, is_llm, subfield,
    in_population, is_top`` (``flags`` from :func:`paper_flags`; a paper it does not list
    is admitted and not top-tier).

    ``population`` (venue and year) and ``subfield`` are categoricals: a few labels over
    millions of rows.
    """
    cols = ["pidx", "population", "year", "is_llm", "subfield", "in_population", "is_top"]
    if (
        authorships is None
        or len(authorships) == 0
        or not {"person_id", "person_key"} & set(authorships.columns)
    ):
        return pd.DataFrame({c: [] for c in cols})
    by = "person_id" if "person_id" in authorships.columns else "person_key"
    a = authorships[authorships[by].notna()]
    pos = _panel_pidx(a, panel)
    ok = pos >= 0
    a, pidx = a[ok], pos[ok]
    year = a["year"].to_numpy(np.int64)
    # the label of each distinct (venue, year), shared by its rows (not one string per row)
    venue, venues = pd.factorize(a["venue"], use_na_sentinel=False)
    y0 = int(year.min()) if len(year) else 0
    span = int(year.max()) - y0 + 1 if len(year) else 1
    pairs, at = np.unique(venue * span + (year - y0), return_inverse=True)
    names = np.asarray([f"{venues[p // span]}{p % span + y0}" for p in pairs], dtype=object)
    labels, label_of = np.unique(names, return_inverse=True)
    population = pd.Categorical.from_codes(label_of[at], categories=labels)
    # each paper's subfield, as codes over the few subfield names
    at = _lookup(a["paper_id"], subfields["paper_id"].to_numpy())
    tag, tags = pd.factorize(subfields["subfield"].to_numpy(dtype=object))
    is_llm = (subfields["subfield"].to_numpy() == "llm") & subfields["is_llm_era"].to_numpy(bool)
    found = at >= 0
    safe = np.maximum(at, 0)
    in_population = np.ones(len(a), dtype=bool)
    is_top = np.zeros(len(a), dtype=bool)
    if flags is not None and len(flags):
        fat = _lookup(a["paper_id"], flags["paper_id"].to_numpy())
        known, fsafe = fat >= 0, np.maximum(fat, 0)
        in_population = np.where(known, flags["in_population"].to_numpy(bool)[fsafe], True)
        is_top = known & flags["is_top"].to_numpy(bool)[fsafe]
    return pd.DataFrame(
        {
            "pidx": pidx,
            "population": population,
            "year": year,
            "is_llm": is_llm[safe] & found if len(is_llm) else np.zeros(len(a), dtype=bool),
            "subfield": pd.Categorical.from_codes(
                np.where(found, tag[safe], -1) if len(tag) else np.full(len(a), -1),
                categories=pd.Index(tags, dtype=object),
            ),
            "in_population": in_population,
            "is_top": is_top,
        }
    )


def _origins(panel: Panel, profile: pd.DataFrame | None) -> pd.DataFrame:
    """Per person: first observed country, training country and training end year.

    ``person_profile`` values are used where present; otherwise they are derived from the panel
    with the same definitions (first panel country; country of the first student year).
    """
    y = panel.years
    first = y[y["year"] == y["first_year"]].set_index("pidx")["country"]
    stud = y[y["student"]]
    first_stud = stud.sort_values(["pidx", "year"]).drop_duplicates("pidx").set_index("pidx")
    out = pd.DataFrame({"pidx": np.arange(panel.n_persons)})
    out["first_country"] = first.reindex(out["pidx"]).to_numpy()
    out["training_country"] = first_stud["country"].reindex(out["pidx"]).to_numpy()
    if profile is not None and len(profile):
        # the profile row of each panel person (the first, should a person have several)
        at = _panel_pidx(profile, panel)
        hit = np.flatnonzero(at >= 0)[::-1]
        row = np.full(panel.n_persons, -1, dtype=np.int64)
        row[at[hit]] = hit
        for col in ("first_country", "training_country"):
            if col in profile.columns:
                vals = profile[col].to_numpy(dtype=object)[np.maximum(row, 0)]
                have = (row >= 0) & pd.notna(vals)
                out.loc[have, col] = vals[have]
    # training ends at the last student year spent in the training country
    tc = out.set_index("pidx")["training_country"]
    s = stud.assign(tc=tc.reindex(stud["pidx"]).to_numpy())
    s = s[s["country"] == s["tc"]]
    out["training_end"] = s.groupby("pidx")["year"].max().reindex(out["pidx"]).to_numpy()
    return out


def _panel_row(panel: Panel, pidx: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Row of (pidx, year) in ``panel.years`` (-1 outside the person's span).

    ``panel.years`` holds every year of each person's span, in (pidx, year) order.
    """
    y = panel.years
    start = np.searchsorted(y["pidx"].to_numpy(), np.arange(panel.n_persons))
    first = y["first_year"].to_numpy(np.int64)[np.minimum(start, max(len(y) - 1, 0))]
    last = y["last_year"].to_numpy(np.int64)[np.minimum(start, max(len(y) - 1, 0))]
    inside = (year >= first[pidx]) & (year <= last[pidx])
    return np.where(inside, start[pidx] + (year - first[pidx]), -1)


def _constant(value: str, categories: list[str]) -> Callable[[pd.DataFrame], pd.Categorical]:
    """For ``DataFrame.assign``: a categorical column holding ``value`` on every row."""
    code = categories.index(value)
    return lambda df: pd.Categorical.from_codes(
        np.full(len(df), code, dtype=np.int8), categories=categories
    )
