"""The padded panel (:mod:`talentflow.indicators.panel`) as Ibis expressions on the stage's engine.

The same definitions as :func:`talentflow.indicators.panel.build_panel`, computed where the data
is (DuckDB or Spark) so that nothing per person reaches the driver:

- several ``person_years`` rows of one person-year: the first in (year, observed desc,
  country, NULLs last) order;
- persons whose country is never known are left out;
- every year between a person's first and last row (a range join against a table of years);
- a year without a row, or with an unknown country (sector), carries the country (sector) of
  the last earlier year that had one, else of the next (running counts of known values and
  a window max per run, which every engine has);
- the stage (``career_stage``, else ``unknown``) is not carried;
- moves by ``lag`` over each person's years; a return is an arrival in a country the person
  was in in an earlier year.

Contract (engine tables, shared with the contributions of every indicator table)
--------------------------------------------------------------------------------
:func:`materialise` writes these intermediate tables on the engine (dropped by
:func:`drop`, prefix ``_ind_panel``). They have the columns of :class:`~talentflow.
indicators.panel.Panel`'s frames with ``person_key`` (int64) in place of ``pidx``:
``person_key`` is the person's rank (0-based) among the sorted distinct non-NULL
``person_years.person_id`` (what ``indicators.stage.read_inputs`` gives the driver and
the bootstrap weights are drawn from), so it is the same key on both paths.

``_ind_panel_years``
    ``person_key, year, country, sector, stage, student, first_year, last_year``: one row
    per panel person-year. ``sector`` is the sector group (``academia``, ``industry``,
    ``government``, ``other``, ``unknown``); ``stage`` the careers stage of that year or
    ``unknown``; ``student`` is ``career_stage = 'student'``.
``_ind_panel_frac``
    ``person_key, year, country, sector, stage, weight``: each person-year's main country and
    its distinct other secondary countries, weights ``1 / (1 + n_other)`` (sum 1).
``_ind_panel_moves``
    ``person_key, year, from_country, to_country, from_sector, to_sector, from_stage,
    to_stage, is_return``: a change of country between consecutive years, dated to the
    arrival year.
``_ind_panel_sector_moves``
    ``person_key, year, country, from_country, from_sector, to_sector, domestic``: a change
    of sector group between consecutive years, neither ``unknown``.
``_ind_subsets``
    ``person_key, subset``: one row per panel person and person subset it belongs to:
    ``all`` (every panel person), ``llm``, ``top`` and the subfields asked for (see
    :func:`talentflow.indicators.compute._person_subsets`; papers count only when the
    population rule admits them).

Contributions (what a table adds per person) are Ibis expressions over these tables with
label columns, ``key`` (the ``person_key``) and ``value``; :mod:`talentflow.indicators.
engine_sums` sums them per cell on the engine (point estimates) and numbers the cells for
:func:`talentflow.indicators.replicates.replicate_sums` (the format ``cell, key, value``).
"""

from __future__ import annotations
