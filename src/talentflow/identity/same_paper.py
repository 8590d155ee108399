"""One slot per paper: two entities with an authorship on one paper are never one person."""

from __future__ import annotations

import ibis


def not_sharing_a_paper(
    pairs: ibis.Table, left: str, right: str, ent_papers: ibis.Table
) -> ibis.Table:
    """``pairs`` without the rows whose two entities have an authorship on one paper.

    Looked up per candidate pair (entity papers joined on both sides), never by pairing all
    authors of every paper with each other.
    """
    lp = ent_papers.select(**{left: ent_papers.entity_id, "paper_id": ent_papers.paper_id})
    rp = ent_papers.select(**{right: ent_papers.entity_id, "paper_id": ent_papers.paper_id})
    keys = pairs.select(left, right).distinct()
    clash = keys.join(lp, left).join(rp, [right, "paper_id"]).select(left, right).distinct()
    return pairs.anti_join(clash, [left, right])
