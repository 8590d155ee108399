"""Comparison features: one *entity* per identifier cluster and per unidentified authorship.

Linkage compares entities, never raw rows: an identifier cluster is summarised once (its name
variants, all co-authors, institutions, email domains, countries, venues, year span and topic
words), and every authorship without an identifier is an entity of its own. All of this is
Ibis, so it runs on DuckDB and on Spark alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from talentflow.identity.names import NAME_KEYS_SCHEMA, is_plain, name_keys, plain_keys

#: The linkage keys of a name (every column of :func:`names.name_keys` but the name itself).
NAME_KEY_COLUMNS = tuple(NAME_KEYS_SCHEMA.names[1:])

#: Webmail domains say nothing about where someone works.
WEBMAIL = (
    "gmail.com",
    "googlemail.com",
    "qq.com",
    "163.com",
    "126.com",
    "foxmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "live.com",
    "icloud.com",
    "protonmail.com",
    "sina.com",
    "yeah.net",
)
#: Second-level labels under which the registrable domain has three labels (``ox.ac.uk``).
_SECOND_LEVEL = ("ac", "co", "edu", "com", "org", "gov", "net", "or", "ne", "go")

#: Title words too common in this field to say anything about a person's topic.
STOPWORDS = [
    "with",
    "from",
    "that",
    "this",
    "into",
    "over",
    "under",
    "using",
    "based",
    "their",
    "through",
    "learning",
    "learn",
    "networks",
    "network",
    "neural",
    "deep",
    "model",
    "models",
    "approach",
    "method",
    "methods",
    "data",
    "towards",
    "toward",
    "via",
    "for",
    "and",
    "the",
    "analysis",
    "efficient",
    "effective",
    "better",
    "large",
    "scale",
    "task",
    "tasks",
    "training",
    "without",
    "when",
    "what",
    "your",
    "more",
    "than",
    "between",
    "across",
    "beyond",
    "improving",
    "improved",
    "generalization",
    "adaptive",
    "robust",
    "new",
    "novel",
    "framework",
    "system",
    "systems",
    "problem",
    "problems",
    "study",
]

STRING_ARRAY = dt.Array(dt.string)


def _clean(value: ibis.Value) -> ibis.Value:
    """Lower-case, punctuation to spaces, trimmed; empty becomes NULL."""
    out = value.lower().re_replace(r"[^a-z0-9]+", " ").strip()
    return ibis.ifelse(out == "", ibis.null("string"), out)


def _first_part(value: ibis.Value) -> ibis.Value:
    """The first of several ``+``-joined parts.

    Not ``split("+")``: Spark's ``split`` takes a regular expression, where ``+`` is invalid.
    """
    cut = value.find("+")
    return ibis.ifelse(cut >= 0, value.substr(0, cut), value)


def other_domains(email_domain: ibis.Value) -> ibis.Value:
    """The registrable domains of the second and third ``+``-joined parts of an e-mail domain
    field (``mbzuai.ac.ae+petuum.com`` -> ``[petuum.com]``), NULL when there is one part.

    OpenReview's newer records list every current position's domain; the first is the
    record's own (:func:`registrable_domain` of it is the ``domain``), the others still say
    where the person works. Parts that are no domain (``+yingzhenl``) are dropped.
    """
    # Flat regular expressions, not nested cuts: an expression repeated inside itself grows
    # the compiled query exponentially.
    patterns = (r"^[^+]*\+([^+]*)", r"^[^+]*\+[^+]*\+([^+]*)")
    parts = [registrable_domain(email_domain.re_extract(p, 1)) for p in patterns]
    kept = [_as_array(d) for d in parts]
    return ibis.ifelse(
        kept[0].isnull(),
        kept[1],
        ibis.ifelse(kept[1].isnull(), kept[0], kept[0].concat(kept[1])),
    )


def registrable_domain(domain: ibis.Value) -> ibis.Value:
    """``cs.toronto.edu`` -> ``toronto.edu``, ``eng.ox.ac.uk`` -> ``ox.ac.uk``; webmail -> NULL."""
    d = domain.lower().strip().nullif("")
    labels = d.split(".")
    n = labels.length()
    two = labels[n - 2] + "." + labels[n - 1]
    three = labels[n - 3] + "." + two
    second = labels[n - 2]
    out = ibis.ifelse((n >= 3) & second.isin(_SECOND_LEVEL), three, two)
    out = ibis.ifelse(n >= 2, out, ibis.null("string"))
    return ibis.ifelse(out.isin(WEBMAIL) | d.isnull(), ibis.null("string"), out)


def _as_array(value: ibis.Value) -> ibis.Value:
    """A one-element array, or NULL when the value is NULL."""
    return ibis.ifelse(value.isnull(), ibis.null(STRING_ARRAY), ibis.array([value]))


def _with_more(arr: ibis.Value, more: ibis.Value) -> ibis.Value:
    """``arr`` with the distinct elements of ``more`` added (either may be NULL)."""
    both = ibis.ifelse(arr.isnull(), more, arr.concat(more).unique())
    return ibis.ifelse(more.isnull(), arr, both)


def _nonempty(arr: ibis.Value) -> ibis.Value:
    return ibis.ifelse(arr.isnull() | (arr.length() == 0), ibis.null(STRING_ARRAY), arr)


def name_table(con: Any, authorships: ibis.Table) -> ibis.Table:
    """Keys of every distinct author name: in the engine for plain ASCII names (most of
    them), in Python (transliteration) for the others, once per distinct name."""
    # Distinct names first: the plain-ASCII test then runs once per name, not per row.
    a = authorships.select("author_name").distinct()
    plain = is_plain(a.author_name).fill_null(False)
    other = a.filter(~plain).to_pyarrow()
    in_python = ibis.memtable(name_keys(other.column("author_name").to_pylist()))
    return plain_keys(a.filter(plain)).union(in_python, distinct=False)


def paper_topics(papers: ibis.Table | None) -> ibis.Table | None:
    """``(paper_id, topics)``: distinct informative title words per paper."""
    if papers is None or "title" not in papers.columns:
        return None
    words = papers.title.lower().re_split(r"[^a-z]+")
    words = words.filter(lambda w: (w.length() > 3) & ~w.isin(STOPWORDS)).unique()
    return papers.select(paper_id=papers.paper_id, topics=_nonempty(words)).distinct(on="paper_id")


def authorship_features(
    authorships: ibis.Table,
    names: ibis.Table,
    papers: ibis.Table | None,
    *,
    max_coauthors: int = 50,
    lists: bool = True,
) -> ibis.Table:
    """One row per authorship with its name keys and comparison values.

    ``lists=False`` leaves out the co-author and topic lists, the costly columns: the linkage
    adds them (:func:`with_lists`) only to the authorships it compares.
    """
    a = authorships
    cols = a.columns
    a = a.left_join(names, a.author_name == names.author_name).drop("author_name_right")
    domain = ibis.null("string")
    more_domains = ibis.null(STRING_ARRAY)
    if "email_domain" in cols:
        # Once per distinct field, not per row (few distinct values, a costly expression).
        # Several positions' domains are joined by "+": the whole field is no domain.
        d = a.select("email_domain").distinct()
        d = d.filter(d.email_domain.notnull()).mutate(
            domain=registrable_domain(_first_part(d.email_domain)),
            more_domains=other_domains(d.email_domain),
        )
        a = a.left_join(d, a.email_domain == d.email_domain).drop("email_domain_right")
        domain, more_domains = a.domain, a.more_domains
    institution = ibis.null("string")
    if "institution" in cols:
        institution = a.institution.cast("string")
    if "label_institution" in cols:
        institution = institution.fill_null(_first_part(a.label_institution))
    if "raw_affiliation" in cols:
        institution = institution.fill_null(_first_part(a.raw_affiliation))
    country = ibis.null("string")
    if "country" in cols:
        country = a.country.cast("string")
    if "label_country" in cols:
        country = country.fill_null(_first_part(a.label_country).lower())
    # An OpenReview profile (not a hashed e-mail): one human has at most one, as a rule.
    profile = ibis.literal(False)
    # OpenReview numbers the profiles of one name in the order they were made
    # (``~Yi_Yang22`` is at least the 22nd "Yi Yang"): a count of the name's holders
    # beyond this corpus (see ``model.name_frequencies``).
    profile_number = ibis.null("int64")
    if "source_person_id" in cols:
        spid = a.source_person_id.cast("string")
        profile = spid.startswith("openreview:~").fill_null(False)
        number = spid.re_extract(r"([0-9]+)$", 1).nullif("").cast("int64")
        profile_number = ibis.ifelse(profile, number, ibis.null("int64"))

    out = a.select(
        "authorship_id",
        "paper_id",
        "author_name",
        "venue",
        "year",
        *NAME_KEY_COLUMNS,
        institution=_clean(institution),
        country=_clean(country),
        domain=domain,
        more_domains=more_domains,
        profile=profile,
        profile_number=profile_number,
    )
    return with_lists(out, out, papers, max_coauthors=max_coauthors) if lists else out


def with_lists(
    rows: ibis.Table,
    every: ibis.Table,
    papers: ibis.Table | None,
    *,
    max_coauthors: int = 50,
) -> ibis.Table:
    """``rows`` (features without lists) with their ``coauthors`` and ``topics``.

    Co-authors are the first-last keys of the other authors of the same paper, read from
    ``every`` (the features of every authorship, so that all of a paper's authors are seen);
    topics are the paper's informative title words.
    """
    named = every.filter(every.name_fl.notnull())
    if rows is not every:
        named = named.filter(named.paper_id.isin(rows.paper_id))
    per_paper = named.group_by("paper_id").aggregate(
        paper_names=named.name_fl.collect(distinct=True), n_names=named.name_fl.count()
    )
    r = rows.left_join(per_paper, "paper_id").drop("paper_id_right")
    coauthors = r.paper_names.filter(lambda x: x != r.name_fl.fill_null(""))
    # A longer list is cut after sorting: which names a collected list holds first depends on
    # the rows' physical order, and the kept co-authors must not.
    coauthors = ibis.ifelse(r.n_names > max_coauthors, coauthors.sort()[:max_coauthors], coauthors)
    out = r.select(*rows.columns, coauthors=_nonempty(coauthors))
    if papers is not None and rows is not every:
        papers = papers.filter(papers.paper_id.isin(rows.paper_id))
    topics = paper_topics(papers)
    if topics is not None:
        out = out.left_join(topics, "paper_id").drop("paper_id_right")
    else:
        out = out.mutate(topics=ibis.null(STRING_ARRAY))
    # the column order of the features table before the lists were split off
    first = ["authorship_id", "paper_id", "author_name", "venue", "year", *NAME_KEY_COLUMNS]
    first.append("coauthors")
    return out.select(*first, *[c for c in out.columns if c not in first])


def record_entities(features: ibis.Table) -> ibis.Table:
    """Entities for authorships without an identifier: one each, arrays of one (the e-mail
    domains: one per position the record lists)."""
    f = features
    return f.select(
        entity_id=f.authorship_id,
        is_cluster=ibis.literal(False),
        n_authorships=ibis.literal(1, "int64"),
        name_fl=f.name_fl,
        name_fl_swapped=f.name_fl_swapped,
        first=f.first,
        last=f.last,
        initial_only=f.initial_only,
        bk_init=f.bk_init,
        bk_init_swapped=f.bk_init_swapped,
        name_variants=_as_array(f.name_full),
        coauthors=f.coauthors,
        institutions=_as_array(f.institution),
        domains=_with_more(_as_array(f.domain), f.more_domains),
        countries=_as_array(f.country),
        venues=_as_array(f.venue),
        year_min=f.year.cast("int64"),
        year_max=f.year.cast("int64"),
        topics=f.topics,
    )


def _collect_distinct_unnested(f: ibis.Table, column: str, key: str = "cluster_key") -> ibis.Table:
    """``(key, column)``: the distinct elements of ``column``'s arrays per cluster.

    Distinct pairs first, then a plain collect: the same set as ``collect(distinct=True)``
    over the unnested rows, at a fraction of the cost (a distinct aggregate per group was
    the entity table's most expensive step).
    """
    u = f.filter(f[column].notnull()).select(key, w=f[column].unnest())
    u = u.filter(u.w.notnull()).distinct()
    return u.group_by(key).aggregate(**{column: u.w.collect()})


#: Feature columns a cluster entity is built from.
_CLUSTER_COLUMNS = (
    "authorship_id",
    "venue",
    "year",
    *NAME_KEY_COLUMNS,
    "coauthors",
    "institution",
    "country",
    "domain",
    "more_domains",
    "topics",
)


#: The name keys of a cluster's representative name (all name keys but the full name).
_NAME_KEYS = tuple(c for c in NAME_KEY_COLUMNS if c != "name_full")


def group_key(clusters: ibis.Table) -> str:
    """The column to group a cluster table by: ``cluster_number`` when there is one."""
    return "cluster_number" if "cluster_number" in clusters.columns else "cluster_key"


def _cluster_rows(features: ibis.Table, clusters: ibis.Table) -> tuple[ibis.Table, str]:
    """Every clustered authorship's features with its cluster, and the key to group by.

    The aggregates group by the clusters' integer number when there is one (see
    ``identifiers.identifier_clusters``): hash tables of an integer and a value instead of
    two strings (the distinct co-author and title-word pairs spill at 10M authorships).
    """
    key = group_key(clusters)
    clusters = clusters.select("authorship_id", *dict.fromkeys([key, "cluster_key"]), "strong")
    # (features without lists have no co-author or topic columns: the names need none)
    columns = [c for c in (*_CLUSTER_COLUMNS, "profile", "profile_number") if c in features.columns]
    return features.select(*columns).join(clusters, "authorship_id"), key


def cluster_names(features: ibis.Table, clusters: ibis.Table) -> ibis.Table:
    """One row per identifier cluster with a name: its name keys, strength and profile.

    The representative name is the cluster's most frequent first-last key (ties: smallest),
    with the smallest of each other key among the authorships of that name (aggregated with
    the count, not looked up again by joining the chosen name back to every row).
    ``profile`` is true when any authorship of the cluster, named or not, carries an
    OpenReview profile; ``profile_number`` is the highest number of its profiles
    (``~Yi_Yang22``: 22). Columns: the group key (``cluster_number`` or ``cluster_key``),
    ``cluster_key``, ``strong``, ``profile``, ``profile_number`` and the name keys but the
    full name.

    This is the cheap part of a cluster's summary: the linkage computes it for every cluster
    and the costly lists (:func:`cluster_entities`) only for clusters that can be compared.
    """
    f, key = _cluster_rows(features, clusters)
    profile = f.profile if "profile" in f.columns else ibis.literal(False)
    number = f.profile_number if "profile_number" in f.columns else ibis.null("int64")
    # Unnamed rows are grouped too (as a null name) so that ``profile`` sees every row; they
    # are ranked last and never chosen as the name.
    counts = f.group_by([key, "name_fl"]).aggregate(
        n=ibis._.count(),
        cluster_key=ibis._.cluster_key.min(),
        strong=ibis._.strong.max(),
        any_profile=profile.max(),
        any_number=number.max(),
        name_fl_swapped=ibis._.name_fl_swapped.min(),
        first=ibis._.first.min(),
        last=ibis._.last.min(),
        initial_only=ibis._.initial_only.min(),
        bk_init=ibis._.bk_init.min(),
        bk_init_swapped=ibis._.bk_init_swapped.min(),
    )
    w = ibis.window(group_by=key, order_by=[counts.name_fl.isnull(), ibis.desc("n"), "name_fl"])
    ranked = counts.mutate(
        rk=ibis.row_number().over(w),
        profile=counts.any_profile.max().over(ibis.window(group_by=key)),
        profile_number=counts.any_number.max().over(ibis.window(group_by=key)),
    )
    ranked = ranked.filter((ranked.rk == 0) & ranked.name_fl.notnull())
    return ranked.select(
        *dict.fromkeys([key, "cluster_key"]), "strong", "profile", "profile_number", *_NAME_KEYS
    )


def cluster_entities(
    features: ibis.Table,
    clusters: ibis.Table,
    *,
    stash: Callable[[str, ibis.Table], ibis.Table] | None = None,
    names: ibis.Table | None = None,
) -> ibis.Table:
    """Entities for identifier clusters: every value seen on any of the cluster's authorships.

    ``clusters`` is ``(authorship_id, cluster_key, strong)``, with ``cluster_number`` when
    :func:`identifiers.identifier_clusters` made it (the aggregates then group by that
    integer); ``is_cluster`` of the entity is ``strong`` (a weak cluster, known only by
    hashed e-mails, may still join a strong one).

    ``stash(name, table)``, when given, materialises an intermediate and returns it: the
    clusters' aggregates one by one, so that the engine holds one aggregate's hash table at a
    time instead of all of them at once in one query (less peak memory).

    ``names``, when given, is :func:`cluster_names` of these clusters (or of a superset of
    them), already computed.
    """
    keep = stash or (lambda _name, table: table)
    # Not stashed: a copy of every clustered row (with its co-author and title-word lists)
    # costs more memory than joining again for each aggregate.
    f, key = _cluster_rows(features, clusters)
    if names is None:
        names = keep("cluster_names", cluster_names(features, clusters))
    rep_keys = names.select(key, *_NAME_KEYS)
    # The cluster's key is one value per number: carried by this aggregate alone.
    carried = {"cluster_key": f.cluster_key.min()} if key != "cluster_key" else {}
    agg = f.group_by(key).aggregate(
        **carried,
        strong=f.strong.max(),
        n_authorships=f.authorship_id.count(),
        name_variants=f.name_full.collect(distinct=True),
        institutions=f.institution.collect(distinct=True),
        domains=f.domain.collect(distinct=True),
        countries=f.country.collect(distinct=True),
        venues=f.venue.collect(distinct=True),
        year_min=f.year.min().cast("int64"),
        year_max=f.year.max().cast("int64"),
    )
    agg = keep("cluster_values", agg)
    co = keep("cluster_coauthors", _collect_distinct_unnested(f, "coauthors", key))
    # (few rows have more than one e-mail domain: this aggregate is small)
    more = _collect_distinct_unnested(f, "more_domains", key)
    tp = keep("cluster_topics", _collect_distinct_unnested(f, "topics", key))
    e = (
        agg.left_join(rep_keys, key)
        .drop(f"{key}_right")
        .left_join(co, key)
        .drop(f"{key}_right")
        .left_join(tp, key)
        .drop(f"{key}_right")
    )
    e = e.left_join(more, key).drop(f"{key}_right")
    domains = _with_more(e.domains, e.more_domains)
    return e.select(
        entity_id=e.cluster_key,
        is_cluster=e.strong,
        n_authorships=e.n_authorships.cast("int64"),
        name_fl=e.name_fl,
        name_fl_swapped=e.name_fl_swapped,
        first=e.first,
        last=e.last,
        initial_only=e.initial_only,
        bk_init=e.bk_init,
        bk_init_swapped=e.bk_init_swapped,
        name_variants=_nonempty(e.name_variants),
        coauthors=_nonempty(e.coauthors),
        institutions=_nonempty(e.institutions),
        domains=_nonempty(domains),
        countries=_nonempty(e.countries),
        venues=_nonempty(e.venues),
        year_min=e.year_min,
        year_max=e.year_max,
        topics=_nonempty(e.topics),
    )
