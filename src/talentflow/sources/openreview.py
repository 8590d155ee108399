"""OpenReview author records: ``openreview/<venue>/<venue><year>.json``.

One object per paper (keyed by the OpenReview forum ``id``) with per-author ``author``,
``authorids`` (``~Name1``), ``aff``, ``aff_domain``, ``position`` (career stage), ``dblp``,
``orcid`` and more; no titles. The same paper often appears in paperlists too; the merge
step joins them on the forum id.
"""

from __future__ import annotations

from talentflow.sources.author_lists import AuthorListFormat

FOLDER = "openreview"
FORMAT = AuthorListFormat(source="openreview")
