"""Paper Copilot paper lists: ``paperlists/<venue>/<venue><year>.json``.

One JSON array per venue-year, one object per paper; per-author fields ``author``, ``aff``
(``+`` joins several affiliations of one author), ``aff_domain``, ``authorids`` (OpenReview
``~Name1``, ACL Anthology ``/x/name/``, IEEE numbers), ``position``; many venue-years also carry
the upstream's own labels ``aff_unique_norm`` / ``aff_country_unique`` with per-author index
lists, kept as ``label_institution`` / ``label_country`` (evaluation data for resolution).
"""

from __future__ import annotations

from talentflow.sources.author_lists import AuthorListFormat

FOLDER = "paperlists"
FORMAT = AuthorListFormat(source="paperlists")
