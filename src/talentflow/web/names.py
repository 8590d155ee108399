"""Country names and ISO-3 codes for display (the store keeps ISO 3166-1 alpha-2)."""

from __future__ import annotations

import functools

import pycountry


@functools.cache
def country_name(code: str) -> str:
    """Common English name of an alpha-2 code (the code itself when unknown)."""
    c = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if c is None:
        return code
    return str(getattr(c, "common_name", None) or c.name)


@functools.cache
def iso3(code: str) -> str | None:
    """Alpha-3 code of an alpha-2 code, as the map geometry is keyed."""
    c = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return str(c.alpha_3) if c is not None else None
