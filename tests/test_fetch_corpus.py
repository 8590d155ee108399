"""The documented default corpus equals the shared mirror, with upstream raw URLs per source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talentflow.sources.corpus import CorpusFile, default_corpus, select

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_corpus_lists_exactly_the_mirror_files() -> None:
    mirror = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    corpus = [f.path for f in default_corpus()]
    assert len(corpus) == len(set(corpus)), "duplicate corpus paths"
    assert set(corpus) == mirror


def test_paper_files_use_the_upstream_raw_layouts() -> None:
    for f in default_corpus():
        source, *rest = f.path.split("/")
        if source == "paperlists":
            venue, name = rest
            assert f.url == (
                f"https://raw.githubusercontent.com/papercopilot/paperlists/main/{venue}/{name}"
            )
        elif source == "openreview":
            venue, name = rest
            assert f.url == (
                "https://raw.githubusercontent.com/jingyangcarl/openreview/main/"
                f"authors/{venue}/{name}"
            )
        else:
            continue
        assert re.fullmatch(re.escape(venue) + r"(19|20)\d\d\.json", name), f.path
        assert f.kind == "json-array"


def test_registries_point_at_their_repositories_and_openalex_is_mirror_only() -> None:
    by_path = {f.path: f for f in default_corpus()}
    assert by_path["openalex/works-sample-tu9-2022.json"].url is None
    repos = {
        "registries/university-domains/world_universities_and_domains.json": "Hipo/university-domains-list",
        "registries/country-codes/country-codes.csv": "datasets/country-codes",
        "registries/population/population.csv": "datasets/population",
        "registries/ror-parser/us.json": "biocodellc/ror-parser",
    }
    for path, repo in repos.items():
        url = by_path[path].url
        assert url is not None
        assert url.startswith(f"https://raw.githubusercontent.com/{repo}/")
        assert url.endswith(Path(path).name) or path.endswith("LICENSE")


@pytest.mark.parametrize(
    ("only", "mirror_glob"),
    [
        (["paperlists/iclr"], "paperlists/iclr/*"),
        (["openreview/iclr/iclr2013.json"], "openreview/iclr/iclr2013.json"),
        (["paperlists/*/*2018.json"], "paperlists/*/*2018.json"),
        (["registries/ror-parser"], "registries/ror-parser/*"),
    ],
)
def test_select_by_folder_path_or_glob(only: list[str], mirror_glob: str) -> None:
    chosen = select(default_corpus(), only)
    assert all(isinstance(f, CorpusFile) for f in chosen)
    expected = {p.relative_to(DATA).as_posix() for p in DATA.glob(mirror_glob)}
    assert expected
    assert {f.path for f in chosen} == expected


def test_select_does_not_match_partial_folder_names() -> None:
    # "paperlists/nip" must not select paperlists/nips/...
    with pytest.raises(ValueError, match="paperlists/nip"):
        select(default_corpus(), ["paperlists/nip"])


def test_select_none_keeps_everything() -> None:
    assert select(default_corpus(), None) == default_corpus()
