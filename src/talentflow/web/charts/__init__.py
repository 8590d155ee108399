"""Charts: a figure, a data table, a one-line plain reading and the API call behind each.

Pages, the JSON API and the HTML report all render these same objects, so the three surfaces
always agree. Figures are plain Plotly JSON (dicts) drawn by plotly.js in the browser; every
estimate is drawn with its 95% interval (error bars) when the store has one.

The builders live in one module per page family; this package re-exports them."""

from __future__ import annotations

from talentflow.web.charts.country import (  # noqa: F401
    SECTOR_WORDS,
    alumni_chart,
    partners_chart,
    sector_chart,
    sector_mix_chart,
    stages_chart,
)
from talentflow.web.charts.coverage import coverage_chart  # noqa: F401
from talentflow.web.charts.figures import (  # noqa: F401
    BASIS_LABEL,
    MIN_AT_RISK,
    PALETTE,
    Chart,
    _error,
    _fmt,
    _interval,
    _label,
    _layout,
    _named,
    _rgba,
    _sankey_figure,
    _span,
    _vals,
    bar_figure,
    clean,
    country_label,
    line_figure,
    measure_label,
    wilson,
    with_years,
)
from talentflow.web.charts.flows import (  # noqa: F401
    NOT_KNOWN,
    PATHWAY_TOP,
    _stay_reading,
    pathways_chart,
    sankey_chart,
    subset_label,
    top_pairs_chart,
)
from talentflow.web.charts.maps import (  # noqa: F401
    MAP_METRICS,
    MAP_MIN_STOCK,
    SHARE_TICKS,
    SMALL_PLACES,
    _map_reading,
    map_chart,
)
from talentflow.web.charts.overview import (  # noqa: F401
    _lead_note,
    bilateral_chart,
    llm_chart,
    overview_charts,
    partner_for,
    retention_chart,
    returns_chart,
    share_chart,
)
from talentflow.web.charts.profiles import (  # noqa: F401
    institution_charts,
    person_chart,
    population_label,
)
