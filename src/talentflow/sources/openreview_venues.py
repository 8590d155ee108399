"""OpenReview paper metadata: ``openreview_venues/<venue>/<venue><year>.json``.

One object per submission, keyed by the OpenReview forum ``id`` (the same id as the author
records in ``openreview/``): ``title``, ``track``, ``keywords`` (``;``-separated),
``primary_area`` where the venue has one, and ``status``, the venue's decision (``Oral``,
``Poster``, ``Reject``, ``Withdraw``, ...). No authors: the records become papers without
author slots, which the merge joins to the author records on the forum id, so OpenReview-only
venue-years get titles, keywords and decisions (see :mod:`talentflow.sources.decisions`).
"""

from __future__ import annotations

from talentflow.sources.author_lists import AuthorListFormat

FOLDER = "openreview_venues"
FORMAT = AuthorListFormat(source="openreview_venues", has_authors=False)
