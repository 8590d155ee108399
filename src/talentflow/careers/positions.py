"""Career stage from the raw ``career_position`` strings the sources give.

OpenReview profiles (and Paper Copilot lists built from them) carry free-text positions such as
"PhD student", "Postdoc", "Assistant Professor", "Principal Researcher" or "Intern". They are
mapped, once per distinct string, to ``student``, ``postdoc``, ``faculty``, ``industry`` or
``other``. Research-staff titles ("Researcher", "Research Scientist", "Engineer") say nothing
about the employer, so the stage table marks them ``staff`` and the person-year step resolves
them with the sector of the affiliation: ``industry`` at a company, ``other`` elsewhere.

Several positions of one author slot are ``+``-joined; the most senior one wins
(faculty > industry > postdoc > student > staff > other), because a professor who also lists a
visiting position is still a professor.
"""

from __future__ import annotations

import re
from typing import Any

import ibis
import pandas as pd

STAGES = ("student", "postdoc", "faculty", "industry", "other")

# Order matters: the first matching rule wins for one position string.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("postdoc", re.compile(r"post[\s-]?doc|postdoctoral", re.I)),
    (
        "faculty",
        re.compile(
            r"professor|\bprof\b|lecturer|\bfaculty\b|\breader\b|\bdean\b|emerit|instructor|"
            r"\bchair\b|tenure",
            re.I,
        ),
    ),
    (
        "student",
        re.compile(
            r"\bstudent\b|\bphd\b|ph\.d|doctoral|\bgraduate\b|undergrad|master|\bms\b|\bmsc\b|"
            r"\bintern\b|internship|\bbachelor|\bcandidate\b|research assistant|mphil",
            re.I,
        ),
    ),
    (
        "industry",
        re.compile(
            r"\bceo\b|\bcto\b|\bcoo\b|founder|vice president|\bvp\b|"
            r"software engineer|applied scientist|data scientist|machine learning engineer|"
            r"\bconsultant\b|amazon scholar|ai resident|developer",
            re.I,
        ),
    ),
    (
        "staff",
        re.compile(
            r"research|scientist|engineer|\bfellow\b|group leader|team lead|\bstaff\b|"
            r"\bhead\b|principal|\bleader\b|\bdirector\b|\bmanager\b|\bpartner\b",
            re.I,
        ),
    ),
]

_SENIORITY = {"faculty": 5, "industry": 4, "postdoc": 3, "student": 2, "staff": 1, "other": 0}


def position_stage(position: str | None) -> str | None:
    """Map one raw position string to a stage (``staff`` still needs the sector).

    Examples
    --------
    >>> position_stage("PhD student"), position_stage("Assistant Professor")
    ('student', 'faculty')
    >>> position_stage("Researcher+PhD student")  # the most senior part counts; student > staff
    'student'
    >>> position_stage(None) is None
    True
    """
    if position is None:
        return None
    parts = [p.strip() for p in str(position).split("+") if p.strip()]
    if not parts:
        return None
    stages = []
    for part in parts:
        for stage, pattern in _RULES:
            if pattern.search(part):
                stages.append(stage)
                break
        else:
            stages.append("other")
    return max(stages, key=lambda s: _SENIORITY[s])


def stage_table(positions: list[str]) -> Any:
    """An Ibis memtable ``career_position -> position_stage`` for the distinct strings given."""
    distinct = sorted({p for p in positions if p is not None})
    frame = pd.DataFrame(
        {
            "career_position": pd.Series(distinct, dtype=object),
            "position_stage": pd.Series([position_stage(p) for p in distinct], dtype=object),
        }
    )
    return ibis.memtable(frame, schema={"career_position": "string", "position_stage": "string"})


def resolve_stage(position_stage: Any, sector: Any) -> Any:
    """Ibis expression: ``staff`` becomes ``industry`` at a company, ``other`` elsewhere."""
    return ibis.cases(
        ((position_stage == "staff") & (sector == "company"), "industry"),
        (position_stage == "staff", "other"),
        else_=position_stage,
    )
