"""Explicit identifiers: authorships sharing any id (transitively) are one person.

The union is computed on *distinct* ids, not on rows: every authorship contributes the edges
between the ids it carries (at most six), the distinct edges are pulled out of the engine,
and ``scipy.sparse.csgraph.connected_components`` labels them. Each component is keyed by its
smallest id (a profile link only when the component holds nothing else), which makes the
result independent of row order.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Columns on ``authorships`` that carry person identifiers, and how each is namespaced.
ID_COLUMNS = ("source_person_id", "orcid", "dblp", "scholar", "linkedin", "current_profile")
#: Links to a profile elsewhere (Google Scholar, LinkedIn): they join two ids of one human
#: (a second OpenReview profile), but never key a cluster that holds another id, so a person
#: keeps the id (and ``person_id``) it had before they were read.
LINK_PREFIXES = ("scholar:", "linkedin:")
#: Ids a record gives as *another* id's current one (OpenReview's renamed or merged
#: profiles): they join the two ids, but never name the id (:func:`trusted_ids` reads an
#: id's name from its own uses), so a profile renamed "Johannes Klicpera" -> "Johannes
#: Gasteiger" keeps its own records whatever the renamed records say.
ALIAS_COLUMNS = ("current_profile",)


def authorship_ids(authorships: ibis.Table) -> ibis.Table:
    """Long table ``(authorship_id, pid, own)`` of every namespaced id an authorship carries;
    ``own`` is False for an id the record names as another's current id (:data:`ALIAS_COLUMNS`)."""
    parts = []
    for column in ID_COLUMNS:
        if column not in authorships.columns:
            continue
        value = authorships[column].cast("string").strip()
        if column == "orcid":
            value = ibis.literal("orcid:") + value
        parts.append(
            authorships.filter(
                authorships[column].notnull() & (authorships[column].strip() != "")
            ).select(
                authorship_id=authorships.authorship_id,
                pid=value,
                own=ibis.literal(column not in ALIAS_COLUMNS),
            )
        )
    if not parts:
        return authorships.select(
            authorship_id=authorships.authorship_id,
            pid=ibis.null("string"),
            own=ibis.literal(True),
        ).limit(0)
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out.distinct()


def components(pairs: pa.Table, *, number: bool = False) -> pa.Table:
    """Connected components of an undirected graph given as distinct ``(a, b)`` string pairs.

    Returns ``(node, component)`` where ``component`` is the smallest node of its component;
    with ``number``, also ``component_number``, an int64 as distinct as ``component`` (the
    rank of that smallest node among all nodes): a narrow key for joins and aggregates.

    Examples
    --------
    >>> t = pa.table({"a": ["x", "y", "p"], "b": ["y", "z", "q"]})
    >>> sorted(components(t).to_pylist(), key=lambda r: r["node"])[:3]
    [{'node': 'p', 'component': 'p'}, {'node': 'q', 'component': 'p'}, {'node': 'x', 'component': 'x'}]
    """
    a = pairs.column("a").combine_chunks()
    b = pairs.column("b").combine_chunks()
    uniq = pc.unique(pa.concat_arrays([a.cast(pa.string()), b.cast(pa.string())]))
    nodes = pc.take(uniq, pc.array_sort_indices(uniq))
    # Profile links after every other id: "smallest" below means smallest among the others.
    is_link = _is_link(nodes)
    nodes = pa.concat_arrays([nodes.filter(pc.invert(is_link)), nodes.filter(is_link)])
    n = len(nodes)
    if n == 0:
        empty = {"node": pa.array([], pa.string()), "component": pa.array([], pa.string())}
        if number:
            empty["component_number"] = pa.array([], pa.int64())
        return pa.table(empty)
    ia = pc.index_in(a, value_set=nodes).to_numpy(zero_copy_only=False)
    ib = pc.index_in(b, value_set=nodes).to_numpy(zero_copy_only=False)
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Nodes are sorted (links last), so the first node seen for each label is the smallest.
    first = np.full(labels.max() + 1, -1, dtype=np.int64)
    order = np.arange(n)
    first[labels[::-1]] = order[::-1]
    smallest = first[labels]
    out = {"node": nodes, "component": pc.take(nodes, pa.array(smallest))}
    if number:
        out["component_number"] = pa.array(smallest, pa.int64())
    return pa.table(out)


def _is_link(nodes: pa.Array) -> pa.Array:
    out = pc.starts_with(nodes, LINK_PREFIXES[0])
    for prefix in LINK_PREFIXES[1:]:
        out = pc.or_(out, pc.starts_with(nodes, prefix))
    return out


def trusted_ids(ids: ibis.Table, features: ibis.Table, *, max_edit: int = 1) -> ibis.Table:
    """Drop id uses that cannot be one person's (see :func:`checked_uses`): ``(authorship_id,
    pid)`` of the uses kept."""
    return kept(checked_uses(ids, features, max_edit=max_edit))


def kept(checked: ibis.Table) -> ibis.Table:
    """``(authorship_id, pid)`` of the uses :func:`checked_uses` found compatible."""
    return checked.filter(checked.compatible).select("authorship_id", "pid")


def renamed_uses(checked: ibis.Table) -> ibis.Table:
    """``(authorship_id, pid)`` of the uses :func:`checked_uses` marks ``renamed``: aliases
    the name guard drops that still keep the given name or the surname of the id's own name,
    in either order, OpenReview's own record of a renamed profile (Klicpera -> Gasteiger,
    Sharon Li -> Yixuan Li, Wenjin Hou -> Hou Wen Jin). They never join identifier clusters
    (a cluster has one name to match records by); :func:`rename_links` joins the two
    clusters' persons instead."""
    return checked.filter(checked.renamed).select("authorship_id", "pid")


def rename_links(renamed: ibis.Table, ids: ibis.Table, clusters: ibis.Table) -> ibis.Table:
    """``(entity_id, person_key, cluster_evidence)``: the identifier cluster of a renamed
    id's records (``renamed``, from :func:`renamed_uses`) under the person key of the
    cluster its current profile's own records make (``ids``, the trusted uses), chains
    followed to the smallest key; the shape of ``fragments.fragments``."""
    old = renamed.join(clusters.select("authorship_id", "cluster_key"), "authorship_id")
    old = old.select("pid", old_key=old.cluster_key).distinct()
    cur = ids.filter(ids.pid.isin(old.pid)).join(
        clusters.select("authorship_id", "cluster_key"), "authorship_id"
    )
    cur = cur.select("pid", new_key=cur.cluster_key).distinct()
    pairs = old.join(cur, "pid").filter(lambda t: t.old_key != t.new_key)
    edges = pairs.select(a=pairs.old_key, b=pairs.new_key).distinct().to_pyarrow()
    comp = ibis.memtable(components(edges))
    comp = comp.filter(comp.node != comp.component)
    return comp.select(
        entity_id=comp.node,
        person_key=comp.component,
        cluster_evidence=ibis.literal("renamed profile: OpenReview lists it under ")
        + comp.component,
    )


def checked_uses(ids: ibis.Table, features: ibis.Table, *, max_edit: int = 1) -> ibis.Table:
    """Mark the id uses that cannot be one person's.

    An id carried by two authors of the same paper is a shared address, not a person (old
    OpenReview records list one e-mail for several authors), and a use whose name is
    incompatible with the id's most frequent name is a misaligned list entry or a mistyped id
    (``dblp:183/0579`` on "Yuxiang Wang" and "Mengdi Wang"). Compatible: the same surname and
    a compatible given name (equal, one an initial or a prefix of the other, or one edit
    apart); or the same name in the other order; or at most ``max_edit`` edits apart in all
    (a typo, "Zhuoran Yang" is two edits from "Zhaoran Wang").

    ``ids`` is :func:`authorship_ids`; without its ``own`` column every use counts as the
    id's own. Returns ``(authorship_id, pid, compatible, renamed)`` for the uses left after
    the paper guards: ``compatible`` passes the name guard, ``renamed`` is an alias that
    fails it (see :func:`renamed_uses`). Computed once, read by :func:`kept` and
    :func:`renamed_uses`.
    """
    f = features.select("authorship_id", "paper_id", "name_fl", "first", "last")
    if "own" not in ids.columns:
        ids = ids.mutate(own=ibis.literal(True))
    # Cached: used three times below, and the engine would otherwise recompute the id union
    # and its join each time.
    u = ids.join(f, "authorship_id").cache()
    # Uses of each id per paper, counted once for both guards below.
    per_paper = u.group_by(["pid", "paper_id"]).aggregate(
        n_own=u.own.cast("int64").sum(), n=ibis._.count()
    )
    shared = per_paper.filter(per_paper.n_own > 1).select("pid").distinct()
    u = u.anti_join(shared, "pid")
    # An alias on a paper where another author carries the id itself is a misplaced entry.
    on_paper = per_paper.filter(per_paper.n > 1)
    alias = u.filter(~u.own).anti_join(on_paper, ["pid", "paper_id"])
    u = u.filter(u.own).union(alias, distinct=False)
    counts = (
        u.filter(u.name_fl.notnull())
        .group_by(["pid", "name_fl", "first", "last"])
        .aggregate(n_own=u.own.cast("int64").sum(), n=ibis._.count())
    )
    # The id's name is read from its own uses first (an alias never outvotes them).
    w = ibis.window(group_by="pid", order_by=[ibis.desc("n_own"), ibis.desc("n"), "name_fl"])
    rep = counts.mutate(rk=ibis.row_number().over(w)).filter(ibis._.rk == 0)
    rep = rep.select("pid", rep_fl=rep.name_fl, rep_first=rep.first, rep_last=rep.last)
    u = u.left_join(rep, "pid").drop("pid_right")
    given = (
        u.first.isnull()
        | u.rep_first.isnull()
        | (
            (u.first.left(1) == u.rep_first.left(1))
            & (
                (u.first.length() == 1)
                | (u.rep_first.length() == 1)
                | u.first.startswith(u.rep_first)
                | u.rep_first.startswith(u.first)
                | (u.first.levenshtein(u.rep_first) <= 1)
            )
        )
    )
    # The representative name itself (most uses): implied by the edit distance below, and
    # cheap to test first.
    same = (u.name_fl == u.rep_fl) if max_edit >= 0 else ibis.literal(False)
    compatible = (
        u.name_fl.isnull()
        | u.rep_fl.isnull()
        | same
        | ((u.last == u.rep_last) & given)
        | ((u.first == u.rep_last) & (u.last == u.rep_first))
        | (u.name_fl.levenshtein(u.rep_fl) <= max_edit)
    )
    part = (
        (u.first == u.rep_first)
        | (u.last == u.rep_last)
        | (u.first == u.rep_last)
        | (u.last == u.rep_first)
    )
    return u.select(
        "authorship_id",
        "pid",
        compatible=compatible,
        renamed=~u.own & ~compatible & part.fill_null(False),
    )


def identifier_clusters(
    con: Any,
    authorships: ibis.Table,
    features: ibis.Table | None = None,
    *,
    ids: ibis.Table | None = None,
    strength: bool = False,
) -> ibis.Table:
    """``(authorship_id, cluster_key, cluster_number)`` for every authorship with a trusted id.

    ``cluster_key`` is the smallest id of the transitive closure of shared ids (profile links
    last, :data:`LINK_PREFIXES`);
    ``cluster_number`` is an integer as distinct as it (the rank of that id among all ids of
    this build; not stable across builds), a narrow key for the cluster aggregates. With
    ``features`` (name keys per authorship), untrustworthy id uses are dropped first
    (:func:`trusted_ids`). ``ids`` (already trusted ``(authorship_id, pid)``) skips that step.
    With ``strength``, also ``strong``: the cluster holds an id that is not a hashed e-mail
    (``email:``), told per distinct id from the components (every id of the cluster is one of
    its nodes), not by joining the ids to every authorship again.
    """
    if ids is None:
        ids = authorship_ids(authorships)
        if features is not None:
            ids = trusted_ids(ids, features)
    # Edges: each id of an authorship to the smallest id of the same authorship (a star),
    # which connects all of them with at most two edges per authorship.
    anchor = ids.group_by("authorship_id").aggregate(anchor=ids.pid.min()).cache()
    edges = ids.join(anchor, "authorship_id").select(a=ids.pid, b=anchor.anchor).distinct()
    comp = components(edges.to_pyarrow(), number=True)
    if strength:
        comp = comp.append_column("strong", _strong(comp))
    comp_t = ibis.memtable(comp)
    extra = {"strong": comp_t.strong} if strength else {}
    return anchor.join(comp_t, anchor.anchor == comp_t.node).select(
        authorship_id=anchor.authorship_id,
        cluster_key=comp_t.component,
        cluster_number=comp_t.component_number,
        **extra,
    )


def _strong(comp: pa.Table) -> pa.Array:
    """Per node of :func:`components` (with numbers): does its component hold an id that is
    not a hashed e-mail?"""
    number = comp.column("component_number").to_numpy()
    profile = pc.invert(pc.starts_with(comp.column("node"), "email:")).to_numpy(
        zero_copy_only=False
    )
    if len(number) == 0:
        return pa.array([], pa.bool_())
    # component numbers are node ranks (below the node count): one slot per possible number
    per_component = np.bincount(number, weights=profile, minlength=len(number)) > 0
    return pa.array(per_component[number], pa.bool_())
