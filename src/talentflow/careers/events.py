"""Mobility events from tenures: the tenure-events method, written as engine joins and windows.

For every tenure N of a person that starts after some other tenure of that person (a *tenure
event*), the *senders* are the person's other-place tenures O that started before N and were still
active at most ``b + 1`` years before N starts (if none was, the latest-ending earlier tenure,
flagged ``gap``). With ``overlap = O.end - N.start + 1`` and ``duration = N.end - N.start + 1``:

- **migration**: every sender ends before N ends and overlaps it by at most ``o`` years;
- **temporary**: every sender ends after N ends (the home continues) and N lasts at most ``d``
  years;
- **undecided ties**: when some sender ends in the same year as N (typically at the end of a
  career or of the data), the change is a migration if N's place is the person's main place in
  N's last year, else a temporary position (when N lasts at most ``d``); flagged ``undecided``;
- anything else (long concurrent affiliations, overlaps above ``o``) is not an event.

A migration is a **return** when the person had earlier left the receiving place by a migration.
A would-be temporary position at a place the person left by a migration, ending within ``o``
years of that migration, is a stale affiliation (old address on new papers) and is dropped.
At the institution level a migration between two institutions of the same country is a ``move``.

Flags: ``ambiguous_sender`` (several sending places), ``ambiguous_receiver`` (several places
received in the same year), ``simultaneous_start`` (another tenure starts the same year),
``concurrent`` (old and new place held at once for a while), ``gap`` (no sender active within
``b`` years), ``undecided`` (tie rule used), ``censored_left`` (a migration of a person already
seen in the first year of the data, so it may be an unseen return), ``censored_right`` (the new
tenure is at most ``d`` years long and runs to the person's last observed year, so it may still
turn out to be a visit).
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

from talentflow.careers.params import CareerParams

_NO_FLAGS = ibis.literal([], type="array<string>")


def _prefixed(t: Any, prefix: str, keep: list[str]) -> Any:
    return t.select(person_id=t.person_id, **{f"{prefix}{c}": t[c] for c in keep})


def detect_events(
    tenures: Any,
    main: Any,
    span: Any,
    params: CareerParams,
    *,
    level: str,
    dataset_first_year: int,
    place_names: Any | None = None,
) -> Any:
    """Classify the tenure events of one level.

    Parameters
    ----------
    tenures
        ``tenures`` rows of this level (with ``unit``, the place id of the level).
    main
        person_id, year, main_unit: the main place of each observed person-year at this level.
    span
        person_id, first_year, last_year.
    params
        :class:`CareerParams` (``b``, ``o``, ``d``).
    level
        ``"country"`` or ``"institution"``.
    dataset_first_year
        First year of the data (for ``censored_left``).
    place_names
        Country level only: person_id, year, country, institution, sector, rank (the ranked
        affiliations of each person-year with a country, 1 = main); the top-ranked one of
        each person-year-country fills from/to institution and sector.
    """
    b, o, d = params.backfill, params.overlap, params.temporary
    cols = ["tenure_id", "unit", "start_year", "end_year", "n_years_observed", "country"]
    cols += ["institution", "sector"]
    starts = tenures.group_by(["person_id", "start_year"]).agg(n_starting=_.count())
    new = _prefixed(tenures, "n_", cols)
    new = new.inner_join(
        starts.rename(n_start_year="start_year"), ["person_id", "n_start_year"]
    ).select(new, "n_starting")
    old = _prefixed(tenures, "o_", cols).rename(o_person_id="person_id")
    pairs = new.inner_join(
        old,
        [new.person_id == old.o_person_id, old.o_start_year < new.n_start_year],
    ).drop("o_person_id")
    w = ibis.window(group_by="n_tenure_id")
    pairs = pairs.mutate(active=(_.o_end_year >= _.n_start_year - 1 - b) & (_.o_unit != _.n_unit))
    pairs = pairs.mutate(
        any_active=_.active.cast("int8").max().over(w),
        latest_end=_.o_end_year.max().over(w),
    )
    # Without an active sender, the latest earlier tenure sends (flagged ``gap``); when that is
    # an earlier tenure of the same place, the person simply resumed it: no event.
    pairs = pairs.filter(_.active | ((_.any_active == 0) & (_.o_end_year == _.latest_end)))
    pairs = pairs.mutate(resumed=(_.o_unit == _.n_unit).cast("int8").max().over(w))
    pairs = pairs.filter(_.resumed == 0)
    pairs = pairs.mutate(
        overlap=_.o_end_year - _.n_start_year + 1,
        duration=_.n_end_year - _.n_start_year + 1,
    )
    pairs = pairs.mutate(
        mig_ok=((_.o_end_year < _.n_end_year) & (_.overlap <= o)).cast("int8"),
        temp_ok=(_.o_end_year > _.n_end_year).cast("int8"),
        tie=(_.o_end_year == _.n_end_year).cast("int8"),
    )
    # The main place just before the new tenure picks the sender among several.
    before = main.select("person_id", n_start_year=_.year + 1, main_before=_.main_unit)
    pairs = pairs.left_join(before, ["person_id", "n_start_year"]).select(pairs, "main_before")
    sender_order = ibis.window(
        group_by="n_tenure_id",
        order_by=[
            ibis.desc((_.o_unit == _.main_before).fill_null(False).cast("int8")),
            ibis.desc("o_n_years_observed"),
            ibis.desc("o_end_year"),
            _.o_start_year,
            _.o_unit,
        ],
    )
    # Distinct senders as a sum of first-rows-per-unit: Spark has no COUNT(DISTINCT) over a
    # window (and a sum of int8 is a 64-bit integer on every engine).
    per_unit = ibis.window(group_by=["n_tenure_id", "o_unit"], order_by="o_start_year")
    pairs = pairs.mutate(first_of_unit=(ibis.row_number().over(per_unit) == 0).cast("int8"))
    pairs = pairs.mutate(
        sender_rank=ibis.row_number().over(sender_order),
        all_mig=_.mig_ok.min().over(w),
        all_mig_tie=(_.mig_ok + _.tie).min().over(w),
        all_temp=_.temp_ok.min().over(w),
        all_temp_tie=(_.temp_ok + _.tie).min().over(w),
        any_tie=_.tie.max().over(w),
        n_senders=_.first_of_unit.sum().over(w),
        max_overlap=_.overlap.max().over(w),
    )
    ev = pairs.filter(_.sender_rank == 0)
    at_end = main.select("person_id", n_end_year=_.year, main_at_end=_.main_unit)
    ev = ev.left_join(at_end, ["person_id", "n_end_year"]).select(ev, "main_at_end")
    ev = ev.mutate(is_main_end=(_.main_at_end == _.n_unit).fill_null(False))
    ev = ev.mutate(
        kind=ibis.cases(
            (_.all_mig == 1, "migration"),
            ((_.all_temp == 1) & (_.duration <= d), "temporary"),
            ((_.all_mig_tie == 1) & (_.any_tie == 1) & _.is_main_end, "migration"),
            (
                (_.all_temp_tie == 1) & (_.any_tie == 1) & ~_.is_main_end & (_.duration <= d),
                "temporary",
            ),
            else_=ibis.null("string"),
        ),
        undecided=(_.all_mig == 0) & (_.all_temp == 0),
    ).filter(_.kind.notnull())
    ev = ev.inner_join(span, "person_id").select(ev, "first_year", "last_year")

    # Returns: a migration into a place the person had earlier left by a migration.
    mig = ev.filter(_.kind == "migration")
    left = mig.select(l_person=_.person_id, l_year=_.n_start_year, l_place=_.o_unit)
    returns = mig.semi_join(
        left,
        [
            mig.person_id == left.l_person,
            left.l_year < mig.n_start_year,
            left.l_place == mig.n_unit,
        ],
    ).select(ret_id="n_tenure_id")
    ev = ev.mutate(is_return=ev.n_tenure_id.isin(returns.ret_id))
    # A short return of the old place within the overlap window of a migration out of it is a
    # stale affiliation (papers still citing the old address), not a visit.
    echo = mig.select(e_person=_.person_id, e_year=_.n_start_year, e_place=_.o_unit)
    # (conditions between the two sides only, so the engine can hash-join on person and place)
    temporary = ev.filter(ev.kind == "temporary")
    stale = temporary.semi_join(
        echo,
        [
            temporary.person_id == echo.e_person,
            echo.e_place == temporary.n_unit,
            echo.e_year < temporary.n_start_year,
            echo.e_year >= temporary.n_end_year + 1 - o,
        ],
    ).select(stale_id="n_tenure_id")
    ev = ev.filter(~ev.n_tenure_id.isin(stale.stale_id))
    receivers = ibis.window(group_by=["person_id", "n_start_year"])
    ev = ev.mutate(
        n_receivers=(_.kind == "migration").cast("int8").sum().over(receivers),
    )
    if level == "country":
        kind = ibis.ifelse(_.is_return, "return", _.kind)
    else:
        kind = ibis.cases(
            (_.is_return, "return"),
            ((_.kind == "migration") & (_.o_country == _.n_country), "move"),
            else_=_.kind,
        )
    flag_list = ibis.array(
        [
            ibis.ifelse(_.n_senders > 1, "ambiguous_sender", ibis.null("string")),
            ibis.ifelse(
                (_.kind == "migration") & (_.n_receivers > 1),
                "ambiguous_receiver",
                ibis.null("string"),
            ),
            ibis.ifelse(_.n_starting > 1, "simultaneous_start", ibis.null("string")),
            ibis.ifelse(_.max_overlap > 0, "concurrent", ibis.null("string")),
            ibis.ifelse(_.any_active == 0, "gap", ibis.null("string")),
            ibis.ifelse(_.undecided, "undecided", ibis.null("string")),
            ibis.ifelse(
                (_.kind == "migration") & ~_.is_return & (_.first_year <= dataset_first_year),
                "censored_left",
                ibis.null("string"),
            ),
            ibis.ifelse(
                (_.n_end_year == _.last_year) & (_.duration <= d),
                "censored_right",
                ibis.null("string"),
            ),
        ]
    )
    ev = ev.mutate(kind=kind, flags=flag_list.filter(lambda f: f.notnull()))
    out = ev.select(
        event_id=_.n_tenure_id,
        person_id=_.person_id,
        year=_.n_start_year.cast("int64"),
        level=ibis.literal(level),
        kind=_.kind,
        from_country=_.o_country,
        to_country=_.n_country,
        from_institution=_.o_institution,
        to_institution=_.n_institution,
        from_sector=_.o_sector,
        to_sector=_.n_sector,
        flags=_.flags,
        from_tenure_id=_.o_tenure_id,
        to_tenure_id=_.n_tenure_id,
        from_end_year=_.o_end_year.cast("int64"),
        to_end_year=_.n_end_year.cast("int64"),
        overlap_years=_.overlap.cast("int64"),
        duration_years=_.duration.cast("int64"),
        n_senders=_.n_senders.cast("int64"),
    )
    if level == "country" and place_names is not None:
        top = _top_places(out, place_names)
        src = top.select(
            person_id=_.person_id,
            from_end_year=_.year,
            from_country=_.country,
            src_institution=_.institution,
            src_sector=_.sector,
        )
        dst = top.select(
            person_id=_.person_id,
            year=_.year,
            to_country=_.country,
            dst_institution=_.institution,
            dst_sector=_.sector,
        )
        out = (
            out.left_join(src, ["person_id", "from_end_year", "from_country"])
            .select(out, "src_institution", "src_sector")
            .left_join(dst, ["person_id", "year", "to_country"])
            .select(out, "src_institution", "src_sector", "dst_institution", "dst_sector")
            .mutate(
                from_institution=_.src_institution,
                to_institution=_.dst_institution,
                from_sector=_.src_sector,
                to_sector=_.dst_sector,
            )
            .drop("src_institution", "src_sector", "dst_institution", "dst_sector")
        )
    return out


def _top_places(events: Any, candidates: Any) -> Any:
    """person_id, year, country, institution, sector: the top-ranked affiliation of each
    (person, year, country) an event leaves or enters (only those: most person-years have
    no event, and ranking all of them would cost more than the events)."""
    keys = ["person_id", "year", "country"]
    wanted = (
        events.select("person_id", year=_.from_end_year, country=_.from_country)
        .union(events.select("person_id", "year", country=_.to_country))
        .distinct()
    )
    r = candidates.semi_join(wanted, keys)
    best = r.group_by(keys).agg(rank=_.rank.min())
    return r.inner_join(best, [*keys, "rank"]).select(*keys, "institution", "sector")
