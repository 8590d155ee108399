"""The shareable report: one self-contained, offline HTML file (``talentflow report``)."""

from __future__ import annotations

from talentflow.report.html import write_report

__all__ = ["write_report"]
