"""Queries over the build's own records (build_params, build_info, ingest_log, coverage)."""

from __future__ import annotations

import json
from typing import Any

import ibis
import pandas as pd

from talentflow.read.base import (
    ReaderBase,
    _cached,
    _public,
    _public_json,
)


class BuildReader(ReaderBase):
    """What the build recorded: parameters, notes, ingest log, coverage, resolved share."""

    # -- methods and data ------------------------------------------------------------------------

    @_cached
    def coverage(self) -> pd.DataFrame:
        """Papers and author slots by venue and year (what the build saw)."""
        if not self.has("papers", "venue", "year"):
            return pd.DataFrame(columns=["venue", "year", "papers"])
        p = self._t("papers")
        agg = {"papers": p.count()}
        if "n_authors" in p.columns:
            agg["author_slots"] = p.n_authors.sum()
        expr = p.group_by(["venue", "year"]).aggregate(**agg).order_by(["venue", "year"])
        return self._run(expr)

    @_cached
    def resolved_share(self) -> pd.DataFrame:
        """Share of author slots with a resolved country, by year."""
        if not self.has("authorships", "country", "year"):
            return pd.DataFrame(columns=["year", "slots", "with_country"])
        a = self._t("authorships")
        expr = (
            a.group_by("year")
            .aggregate(slots=a.count(), with_country=a.country.notnull().sum())
            .mutate(share=ibis._.with_country / ibis._.slots)
            .order_by("year")
        )
        return self._run(expr)

    @_cached
    def _raw_params(self) -> pd.DataFrame:
        if not self.has("build_params"):
            return pd.DataFrame(columns=["stage", "name", "value"])
        t = self._t("build_params")
        return self._run(t.select("stage", "name", "value").order_by(["stage", "name"]))

    def build_params(self) -> pd.DataFrame:
        """Every parameter of the build (stage, name, JSON value); paths by their last part."""
        df = self._raw_params().copy()
        df["value"] = [_public_json(v) for v in df["value"]]
        return df

    def param(self, stage: str, name: str, default: Any = None) -> Any:
        """One build parameter, decoded from its JSON (``default`` when not recorded).

        Values are as the builder wrote them (paths included): surfaces that serve them to
        others use :meth:`build_params`.
        """
        df = self._raw_params()
        rows = df[(df["stage"] == stage) & (df["name"] == name)]
        if rows.empty:
            return default
        value = rows["value"].iloc[-1]
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return value

    def reference_notes(self) -> list[str]:
        """What reference data the resolver used or lacked (``build_params`` resolve notes)."""
        notes = self.param("resolve", "reference_notes") or []
        # a note may name the folder the builder passed: no absolute paths in what we serve
        return [" ".join(_public(word) for word in str(n).split(" ")) for n in notes]

    @_cached
    def evidence_summary(self) -> pd.DataFrame:
        """Person-years and persons by career evidence (``paper``, ``openalex_history``,
        ``backfill``), for the methods page; empty for a store without the column."""
        if not self.has("person_years", "evidence"):
            return pd.DataFrame(columns=["evidence", "person_years", "persons"])
        t = self._t("person_years")
        return self._run(
            t.group_by("evidence")
            .aggregate(person_years=t.count(), persons=t.person_id.nunique())
            .order_by("evidence")
        )

    def careers_evidence(self) -> str:
        """The careers evidence of this build (``build_params``), ``papers`` if not recorded."""
        return str(self.param("careers", "evidence", "papers"))

    @_cached
    def build_info(self) -> dict[str, str]:
        """Key/value facts of the build (version, engine, times)."""
        if not self.has("build_info"):
            return {}
        df = self._run(self._t("build_info"))
        return {str(k): _public(str(v)) for k, v in zip(df["key"], df["value"], strict=True)}

    @_cached
    def ingest_summary(self) -> pd.DataFrame:
        """Files read per source and status, with record counts."""
        if not self.has("ingest_log"):
            return pd.DataFrame(columns=["source", "status", "files"])
        t = self._t("ingest_log")
        agg: dict[str, Any] = {"files": t.count()}
        for col in ("records_read", "records_kept", "records_quarantined"):
            if col in t.columns:
                agg[col] = t[col].sum()
        return self._run(
            t.group_by(["source", "status"]).aggregate(**agg).order_by(["source", "status"])
        )

    # -- the CLI's summaries ---------------------------------------------------------------------

    def ingest_problems(self) -> list[tuple[Any, ...]]:
        """Files of the last build that were ``partial`` or ``failed``: (file, status,
        records quarantined, message), by file."""
        if not self.has("ingest_log"):
            return []
        return self._rows(
            """SELECT file, status, records_quarantined, message FROM ingest_log
            WHERE status IN ('partial', 'failed') ORDER BY file"""
        )

    def slots_by_source(self) -> list[tuple[str, int]]:
        """Author slots read per source before deduplication (``raw_authorships``)."""
        if not self.has("raw_authorships", "source"):
            return []
        return [
            (str(s), int(n))
            for s, n in self._rows(
                "SELECT source, count(*) FROM raw_authorships GROUP BY 1 ORDER BY 1"
            )
        ]

    def papers_by_decision(self) -> list[tuple[str, str, int]] | None:
        """Papers by decision and tier (tier ``''`` when none); None without decisions."""
        if not self.has("papers", "decision"):
            return None
        return [
            (str(d), str(t), int(n))
            for d, t, n in self._rows(
                """SELECT decision, coalesce(tier, '') AS t, count(*) FROM papers GROUP BY ALL
                ORDER BY decision, t"""
            )
        ]

    def venue_coverage(self) -> list[tuple[Any, ...]]:
        """Per venue of ``authorships``: years (``first-last``), papers, author slots, slots
        with an affiliation, with a country and distinct persons (None when not built)."""
        if not self.has("authorships", "venue", "year", "paper_id", "raw_affiliation"):
            return []
        country = "count(country)" if self.has("authorships", "country") else "NULL"
        persons = "count(DISTINCT person_id)" if self.has("authorships", "person_id") else "NULL"
        return self._rows(f"""
            SELECT venue, min(year) || '-' || max(year) AS years, count(DISTINCT paper_id),
              count(*), count(raw_affiliation), {country}, {persons}
            FROM authorships GROUP BY venue ORDER BY venue""")
