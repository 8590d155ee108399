"""The evaluations' truth and masks: identifier clusters of the unmasked corpus, and the
corpus with some authorships' ids emptied (see :mod:`talentflow.identity.evaluate` and
:mod:`talentflow.identity.oversplit`)."""

from __future__ import annotations

from typing import Any

import ibis

from talentflow.identity import features, identifiers


def write_truth(con: Any, authorships: ibis.Table) -> ibis.Table:
    """Write and return ``_eval_truth``: ``(authorship_id, cluster_key)``, the identifier
    clusters of ``authorships`` with every id visible (after the stage's trust guards), a
    renamed profile's cluster under its current one's key (``identifiers.rename_links``)."""
    names = features.name_table(con, authorships)
    con.create_table("_eval_names", names, overwrite=True)
    feats = features.authorship_features(authorships, con.table("_eval_names"), None)
    con.create_table("_eval_feats", feats, overwrite=True)
    feats = con.table("_eval_feats")
    checked = identifiers.checked_uses(identifiers.authorship_ids(authorships), feats)
    con.create_table("_eval_checked", checked, overwrite=True)
    checked = con.table("_eval_checked")
    ids = identifiers.kept(checked)
    clusters = identifiers.identifier_clusters(con, authorships, ids=ids)
    con.create_table("_eval_clusters", clusters, overwrite=True)
    clusters = con.table("_eval_clusters")
    # A renamed profile and its current one are one human, as the stage reads them.
    renames = identifiers.rename_links(identifiers.renamed_uses(checked), ids, clusters)
    r = renames.select(cluster_key=renames.entity_id, root=renames.person_key)
    joined = clusters.left_join(r, "cluster_key")
    truth = joined.select("authorship_id", cluster_key=joined.root.fill_null(joined.cluster_key))
    con.create_table("_eval_truth", truth, overwrite=True)
    con.drop_table("_eval_clusters", force=True)
    con.drop_table("_eval_checked", force=True)
    return con.table("_eval_truth")


#: Columns only a record with an id carries: emptied with the ids. OpenReview states a
#: career position on records with a profile; no authorship without an id has one (counted
#: on the real corpus: 0 of 124,815), so a hidden record keeping its position would hold
#: evidence no unidentified record does.
PROFILE_ONLY_COLUMNS = ("career_position",)


def mask(con: Any, authorships: ibis.Table, hidden: ibis.Value) -> ibis.Table:
    """Write and return ``_eval_masked``: ``authorships`` with every id column (and
    :data:`PROFILE_ONLY_COLUMNS`) emptied where the boolean ``hidden`` holds."""
    id_cols = [
        c for c in (*identifiers.ID_COLUMNS, *PROFILE_ONLY_COLUMNS) if c in authorships.columns
    ]
    masked = authorships.mutate(
        **{
            c: ibis.ifelse(hidden, ibis.null(authorships[c].type()), authorships[c])
            for c in id_cols
        }
    )
    con.create_table("_eval_masked", masked, overwrite=True)
    return con.table("_eval_masked")
