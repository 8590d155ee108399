"""One person's career as tables a surface can render (years, places, events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from ibis import _


@dataclass
class Timeline:
    """A person's profile row, person-years and events (country and institution level)."""

    person_id: str
    profile: dict[str, Any] | None
    years: pd.DataFrame
    events: pd.DataFrame


def person_timeline(con: Any, person_id: str) -> Timeline:
    """Read one person's careers rows from a built store."""
    prof = con.table("person_profile").filter(_.person_id == person_id).to_pandas()
    years = con.table("person_years").filter(_.person_id == person_id).order_by("year").to_pandas()
    events = (
        con.table("events").filter(_.person_id == person_id).order_by(["year", "level"]).to_pandas()
    )
    profile = prof.iloc[0].to_dict() if len(prof) else None
    return Timeline(person_id, profile, years, events)
