"""The default corpus: every file ``talentflow fetch`` downloads, and where each comes from.

The list is data, kept equal to the files of the shared mirror (``../shared/data``). Relative
paths are the cache layout, which is also the mirror layout, so a cache directory is a valid
``--data`` directory for ``talentflow build``.

Upstreams (raw files on GitHub's raw-content host):

- ``paperlists/<venue>/<venue><year>.json``: github.com/papercopilot/paperlists, branch ``main``,
  file ``<venue>/<venue><year>.json``.
- ``openreview/<venue>/<venue><year>.json``: github.com/jingyangcarl/openreview, branch ``main``,
  file ``authors/<venue>/<venue><year>.json``.
- ``openreview_venues/<venue>/<venue><year>.json``: the same repository, file
  ``venues/<venue>/<venue><year>.json`` (title, keywords, track and decision per forum id).
- ``registries/...``: Hipo/university-domains-list, datasets/country-codes, datasets/population,
  biocodellc/ror-parser, at each repository's default branch (``HEAD``).
- ``openalex/works-sample-tu9-2022.json``: a sample of OpenAlex API pages; upstream keeps it only
  inside an archive, so it has no raw URL and comes from a mirror only.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Literal

#: How a downloaded file is checked before it is kept.
Kind = Literal["json-array", "json", "csv", "raw"]

RAW_HOST = "https://raw.githubusercontent.com"
PAPERLISTS_URL = RAW_HOST + "/papercopilot/paperlists/main/{venue}/{venue}{year}.json"
OPENREVIEW_URL = RAW_HOST + "/jingyangcarl/openreview/main/authors/{venue}/{venue}{year}.json"
VENUES_URL = RAW_HOST + "/jingyangcarl/openreview/main/venues/{venue}/{venue}{year}.json"

#: Paper Copilot paper lists: venue -> years (files of 4 MiB and more upstream are left out).
PAPERLISTS: dict[str, tuple[int, ...]] = {
    "3dv": (2025,),
    "aaai": (2022,),
    "acl": (2021, 2022),
    "acml": tuple(range(2010, 2025)),
    "acmmm": (2024,),
    "ai4x": (2025,),
    "aistats": (1995, 1997, 1999, 2001, 2003, 2005, 2007, 2009, *range(2010, 2026)),
    "alt": (2025,),
    "automl": (2022, 2023, 2024),
    "coling": (2020, 2022),
    "colm": (2024,),
    "colt": tuple(range(2011, 2025)),
    "corl": tuple(range(2021, 2026)),
    "cvpr": tuple(range(2013, 2020)),
    "iccv": (2013, 2015, 2017, 2019),
    "iclr": (2013, 2014, 2017, 2018, 2021),
    "icml": (*range(2013, 2020), 2023, 2024),
    "ijcai": (2020, 2021, 2022, 2023),
    "naacl": (2021, 2022, 2024),
    "nips": (*range(1987, 2019), 2021),
    "uai": tuple(range(2019, 2025)),
    "wacv": tuple(range(2020, 2025)),
    "www": (2024,),
}

#: OpenReview author records (jingyangcarl/openreview): venue -> years.
OPENREVIEW: dict[str, tuple[int, ...]] = {
    "3dv": (2025,),
    "ai4x": (2025,),
    "aistats": (2025,),
    "alt": (2025,),
    "colm": (2024, 2025),
    "corl": tuple(range(2021, 2026)),
    "emnlp": (2023,),
    "iclr": (2013, 2014, *range(2017, 2024)),
    "icml": (2023, 2024),
    "nips": (2021, 2022, 2023, 2024),
    "www": (2025,),
}

#: OpenReview paper metadata (jingyangcarl/openreview ``venues/``): venue -> years. Upstream
#: files of 4 MiB and more (current NeurIPS/ICML/ICLR) are left out, as in the mirror.
OPENREVIEW_VENUES: dict[str, tuple[int, ...]] = {
    "3dv": (2025,),
    "acmmm": (2024,),
    "ai4x": (2025,),
    "aistats": (2025,),
    "alt": (2025,),
    "colm": (2024, 2025),
    "corl": tuple(range(2021, 2026)),
    "emnlp": (2023,),
    "iclr": (2013, 2014, *range(2017, 2024)),
    "icml": (2023, 2024),
    "nips": (2021, 2022, 2023),
    "www": (2024, 2025),
}

#: ISO 3166-1 alpha-2 codes (lower case) of the ror-parser per-country files.
_ROR_CODES = """
    ad ae af ag al am ao ar at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq br bs bt bw by
    bz ca cd cf cg ch ci cl cm cn co cr cu cv cw cy cz de dj dk dm do dz ec ee eg eh er es et fi
    fj fm fo fr ga gb gd ge gf gh gi gl gm gn gp gq gr gt gw gy hn hr ht hu id ie il im in iq ir
    is it je jm jo jp ke kg kh kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg
    mk ml mm mn mq mr ms mt mu mv mw mx my mz na nc ne ng ni nl no np nu nz om pa pe pf pg ph pk
    pl ps pt pw py qa re ro rs ru rw sa sb sc sd se sg si sj sk sl sm sn so sr ss st sv sx sy sz
    tc td tg th tj tl tm tn to tr tt tv tw tz ua ug us uy uz va vc ve vg vn ws xk ye za zm zw
    """
ROR_COUNTRIES: tuple[str, ...] = tuple(_ROR_CODES.split())

OPENALEX_SAMPLE = "openalex/works-sample-tu9-2022.json"


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus.

    Attributes
    ----------
    path
        Relative path in the cache (and mirror) layout, ``/``-separated.
    url
        Upstream raw URL, or None when the file is available from a mirror only.
    kind
        How the file is validated before it is kept: ``json-array`` (a JSON array),
        ``json`` (any JSON value), ``csv`` (UTF-8 text with a header line) or ``raw``.
    """

    path: str
    url: str | None
    kind: Kind


def _registries() -> list[CorpusFile]:
    uni = RAW_HOST + "/Hipo/university-domains-list/HEAD/"
    files = [
        CorpusFile(
            "registries/university-domains/world_universities_and_domains.json",
            uni + "world_universities_and_domains.json",
            "json-array",
        ),
        CorpusFile("registries/university-domains/LICENSE", uni + "LICENSE.txt", "raw"),
        CorpusFile(
            "registries/country-codes/country-codes.csv",
            RAW_HOST + "/datasets/country-codes/HEAD/data/country-codes.csv",
            "csv",
        ),
        CorpusFile(
            "registries/population/population.csv",
            RAW_HOST + "/datasets/population/HEAD/data/population.csv",
            "csv",
        ),
    ]
    files += [
        CorpusFile(
            f"registries/ror-parser/{cc}.json",
            f"{RAW_HOST}/biocodellc/ror-parser/HEAD/data/{cc}.json",
            "json-array",
        )
        for cc in ROR_COUNTRIES
    ]
    return files


def default_corpus() -> list[CorpusFile]:
    """Return every file of the default corpus, in a stable order.

    Returns
    -------
    list of CorpusFile
        Paper lists, OpenReview author records, OpenReview paper metadata, the OpenAlex
        sample, then the registries.

    Examples
    --------
    >>> files = default_corpus()
    >>> files[0].path
    'paperlists/3dv/3dv2025.json'
    """
    per_venue_year = (
        ("paperlists", PAPERLISTS, PAPERLISTS_URL),
        ("openreview", OPENREVIEW, OPENREVIEW_URL),
        ("openreview_venues", OPENREVIEW_VENUES, VENUES_URL),
    )
    files = [
        CorpusFile(
            f"{folder}/{venue}/{venue}{year}.json",
            url.format(venue=venue, year=year),
            "json-array",
        )
        for folder, table, url in per_venue_year
        for venue, years in table.items()
        for year in years
    ]
    files.append(CorpusFile(OPENALEX_SAMPLE, None, "json-array"))
    return files + _registries()


def _matches(path: str, pattern: str) -> bool:
    pattern = pattern.strip().strip("/")
    # A folder prefix ("paperlists", "paperlists/nips") selects everything under it.
    return path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern)


def select(files: list[CorpusFile], only: list[str] | None) -> list[CorpusFile]:
    """Keep the files matching any of ``only`` (all files when ``only`` is None or empty).

    Parameters
    ----------
    files
        The corpus to filter.
    only
        Patterns: a folder prefix (``paperlists``, ``openreview/iclr``), an exact relative path,
        or a glob on the relative path (``paperlists/*/*2018.json``).

    Raises
    ------
    ValueError
        When a pattern matches no file (a typo should not silently fetch nothing).

    Examples
    --------
    >>> [f.path for f in select(default_corpus(), ["paperlists/nips/nips2018.json"])]
    ['paperlists/nips/nips2018.json']
    """
    if not only:
        return list(files)
    unmatched = [p for p in only if not any(_matches(f.path, p) for f in files)]
    if unmatched:
        raise ValueError(f"no corpus file matches: {', '.join(unmatched)}")
    return [f for f in files if any(_matches(f.path, p) for p in only)]
