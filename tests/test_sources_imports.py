"""A build imports only what it runs: the HTTP client loads when a download starts, the
Public Suffix List parser when a first email domain is parsed."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_resolve_and_sources_stages_do_not_import_httpx_or_tldextract() -> None:
    # the resolve stage asks the fetch module for its cache folder only
    loaded = _loaded_after(
        "import talentflow.sources.stage, talentflow.resolve.stage\n"
        "from talentflow.resolve.reference import fetch_cache\n"
        "fetch_cache()"
    )
    assert "talentflow.sources.fetch" in loaded
    assert "httpx" not in loaded
    assert "talentflow.resolve.domains" in loaded
    assert "tldextract" not in loaded
    assert "requests" not in loaded


def test_the_command_line_does_not_import_httpx_until_a_download() -> None:
    # `talentflow build` imports every command module; only the fetch commands download
    loaded = _loaded_after("import talentflow.cli")
    assert "talentflow.sources.openalex_api" in loaded
    assert "httpx" not in loaded
    made = _loaded_after(
        "from talentflow.sources.openalex_api import Client\n"
        "with Client() as client:\n"
        "    assert type(client._http).__module__.startswith('httpx')"
    )
    assert "httpx" in made


def test_the_first_domain_parsed_loads_tldextract() -> None:
    loaded = _loaded_after(
        "from talentflow.resolve.domains import parse_domain\n"
        "info = parse_domain('cs.stanford.edu')\n"
        "assert info is not None and info.registered == 'stanford.edu', info"
    )
    assert "tldextract" in loaded


def test_a_download_still_loads_httpx(tmp_path) -> None:
    from talentflow.sources.fetch import _Fetcher

    fetcher = _Fetcher(dest=tmp_path, mirror=None, progress=None, retries=0, backoff=0, timeout=1)
    try:
        assert fetcher.client is not None
        assert type(fetcher.client).__module__.startswith("httpx")
    finally:
        fetcher.close()
