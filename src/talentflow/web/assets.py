"""Where the dashboard's own files are: static folder, plotly.js of the installed package."""

from __future__ import annotations

from pathlib import Path

import plotly

STATIC = Path(__file__).parent / "static"
#: plotly.js from the installed ``plotly`` package: never a CDN.
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Everything from this server only: the browser itself refuses any other origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
