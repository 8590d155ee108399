"""The ``resolve`` build stage: authorships -> ``affiliations``, and the join back.

Python work happens only on distinct (raw_affiliation, email_domain) pairs, and only on those
whose ``norm_key`` is not already in the previous store's ``affiliations`` table (built with
the same gazetteer). The resolved columns go onto ``authorships`` through the engine's
``set_columns`` (in place on DuckDB).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from talentflow.resolve.compile import load_gazetteer
from talentflow.resolve.normalize import normalize
from talentflow.resolve.reference import find_reference
from talentflow.resolve.resolver import Resolver

STAGE = "resolve"
#: Columns the stage adds to ``authorships`` (from ``affiliations``, matched on the pair).
JOINED = ("institution", "institution_id", "country", "sector", "hq_fallback")
#: Columns older versions of the stage added to ``authorships``: removed when it runs again.
DROPPED = ("other_parts",)
#: One resolved affiliation part after the first.
PART = pa.struct([("institution", pa.string()), ("country", pa.string()), ("sector", pa.string())])

SCHEMA = pa.schema(
    [
        ("raw_affiliation", pa.string()),
        ("email_domain", pa.string()),
        ("norm_key", pa.string()),
        ("institution", pa.string()),
        ("institution_id", pa.string()),
        ("country", pa.string()),
        ("countries", pa.list_(pa.string())),
        ("sector", pa.string()),
        ("confidence", pa.float64()),
        ("evidence", pa.list_(pa.string())),
        ("method", pa.string()),
        ("hq_fallback", pa.bool_()),
        ("other_parts", pa.list_(PART)),
    ]
)
_RESULT_COLS = SCHEMA.names[3:]


def norm_key(affiliation: str | None, domain: str | None) -> str:
    """Cache key of a pair: normalised affiliation and lower-case domain, ``|``-joined."""
    return f"{normalize(affiliation or '')}|{(domain or '').strip().lower()}"


def _previous_rows(ctx: Any, gazetteer_id: str, wanted: set[str]) -> dict[str, tuple]:
    """Cached resolutions from the previous store, when it used the same gazetteer."""
    prev = ctx.previous
    if prev is None:
        return {}
    try:
        tables = prev.list_tables()
        if "affiliations" not in tables or "build_params" not in tables:
            return {}
        bp = prev.table("build_params")
        rows = (
            bp.filter((bp.stage == STAGE) & (bp.name == "gazetteer"))
            .select("value")
            .to_pyarrow()
            .column("value")
            .to_pylist()
        )
        if not rows or rows[-1] != f'"{gazetteer_id}"':
            return {}
        old = prev.table("affiliations").select("norm_key", *_RESULT_COLS).to_pyarrow()
    except Exception:  # an old or foreign store is simply not reused
        return {}
    cols = [old.column(c).to_pylist() for c in ["norm_key", *_RESULT_COLS]]
    return {k: tuple(vals) for k, *vals in zip(*cols, strict=True) if k in wanted}


def resolve_pairs(
    pairs: list[tuple[str | None, str | None]],
    resolver: Resolver,
    cached: dict[str, tuple] | None = None,
    keys: list[str] | None = None,
) -> tuple[pa.Table, int]:
    """Resolve distinct pairs (reusing ``cached`` by norm_key); the affiliations table and
    the number of keys resolved anew. ``keys``: the pairs' norm_keys, when already known."""
    cached = dict(cached or {})
    fresh = 0
    out: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    if keys is None:
        keys = [norm_key(raw, dom) for raw, dom in pairs]
    for (raw, dom), key in zip(pairs, keys, strict=True):
        vals = cached.get(key)
        if vals is None:
            r = resolver.resolve(raw, dom)
            vals = (
                r.institution,
                r.institution_id,
                r.country,
                r.countries,
                r.sector,
                r.confidence,
                r.evidence,
                r.method,
                r.hq_fallback,
                [{"institution": i, "country": c, "sector": s} for i, c, s in r.other_parts],
            )
            cached[key] = vals
            fresh += 1
        out["raw_affiliation"].append(raw)
        out["email_domain"].append(dom)
        out["norm_key"].append(key)
        for name, v in zip(_RESULT_COLS, vals, strict=True):
            out[name].append(v)
    return pa.table(out, schema=SCHEMA), fresh


def run(ctx: Any) -> None:
    """Resolve every distinct (raw_affiliation, email_domain) pair of ``authorships``."""
    con = ctx.con
    params = ctx.params
    data_dir = params.get("data_dir", ctx.data_dir)
    reference = find_reference(data_dir, params.get("registry_dir"))
    for note in reference.notes:
        ctx.progress(f"resolve: {note}")
    gaz = load_gazetteer(data_dir, reference=reference)
    gazetteer_id = str(gaz.meta.get("digest", ""))
    resolver = Resolver(gaz)

    authorships = con.table("authorships")
    # sorted: the first raw string of a norm_key decides its row, on every engine and run
    pairs_tbl = (
        authorships.select("raw_affiliation", "email_domain")
        .distinct()
        .to_pyarrow()
        .sort_by([("raw_affiliation", "ascending"), ("email_domain", "ascending")])
    )
    pairs = list(
        zip(
            pairs_tbl.column("raw_affiliation").to_pylist(),
            pairs_tbl.column("email_domain").to_pylist(),
            strict=True,
        )
    )
    ctx.progress(f"resolve: {len(pairs)} distinct (affiliation, domain) pairs")
    keys = [norm_key(a, d) for a, d in pairs]
    cached = _previous_rows(ctx, gazetteer_id, set(keys))
    table, fresh = resolve_pairs(pairs, resolver, cached, keys)
    ctx.progress(f"resolve: {fresh} keys resolved, {len(cached)} reused from the previous store")
    con.create_table("affiliations", table, overwrite=True)

    # The columns go on in place where the engine can (an UPDATE on DuckDB); ``other_parts``
    # stays in ``affiliations`` only (careers joins it on the pair), since DuckDB cannot
    # update a list column in place and would rewrite every row.
    ctx.engine.set_columns(
        "authorships", "affiliations", JOINED, ("raw_affiliation", "email_domain"), drop=DROPPED
    )
    ctx.record_params(
        STAGE,
        {
            "gazetteer": gazetteer_id,
            "data_dir": str(data_dir) if data_dir is not None else None,
            "registry_dir": str(reference.registry_dir) if reference.registry_dir else None,
            "labels_dir": str(reference.labels_dir) if reference.labels_dir else None,
            **reference.as_params(),
            "learn_splits": gaz.meta.get("learn_splits"),
            "distinct_pairs": len(pairs),
            "keys_resolved": fresh,
            "keys_reused": len(cached),
        },
    )
