"""``talentflow fetch openalex`` / ``openalex-authors``: OpenAlex API pages into the data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from talentflow.cli.app import EXIT_DATA_ERROR, EXIT_OK, EXIT_USAGE
from talentflow.cli.fetch import fetch_app
from talentflow.sources.openalex_api import (
    DEFAULT_API_URL,
    Client,
    OpenAlexError,
    PagesReport,
    Politeness,
    WorkFilter,
    fetch_authors,
    fetch_works,
    store_authors,
)

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Data folder (a --data folder of build; pages go under openalex/api/ or openalex_authors/).",
    ),
]
MailtoOption = Annotated[
    str | None,
    typer.Option(
        "--mailto",
        envvar="OPENALEX_MAILTO",
        help="Your e-mail, sent as mailto= (OpenAlex's polite pool).",
    ),
]
ApiUrlOption = Annotated[
    str, typer.Option("--api-url", help="Base URL of the API (a mirror, a local server).")
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="OPENALEX_API_KEY", help="Sent as api_key= when given."),
]
BudgetOption = Annotated[
    int | None,
    typer.Option("--max-requests", min=1, help="Request budget (retries count); resumable."),
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="Folder name of this fetch (default: from the filter)."),
]
DelayOption = Annotated[
    float, typer.Option("--retry-delay", min=0.0, help="Base backoff delay in seconds.")
]


def _client(
    api_url: str, mailto: str | None, api_key: str | None, budget: int | None, delay: float
) -> Client:
    return Client(
        api_url,
        Politeness(mailto=mailto, api_key=api_key, max_requests=budget, base_delay=delay),
    )


def _report(console: Console, report: PagesReport, what: str) -> None:
    since = f", updated since {report.incremental_since}" if report.incremental_since else ""
    console.print(
        f"run {report.run}{since}: [bold]{len(report.pages_written)}[/] page(s), "
        f"{report.records} {what}, {report.requests} request(s), "
        f"{len(report.waits)} retry wait(s) -> {report.folder}"
    )
    if report.repeated:
        console.print(f"{report.repeated} record(s) already written by an earlier query, kept once")
    if report.superseded:
        console.print(f"{report.superseded} older copies replaced by their updated records")
    if report.stopped:
        console.print(f"[yellow]stopped:[/] {report.stopped}; run again to continue")
    elif not report.pages_written and report.incremental_since:
        console.print("nothing new")


def _store_or_exit(console: Console, db: Path) -> Path:
    if not db.is_file():
        console.print(f"[red]error:[/] store not found: {db}")
        raise typer.Exit(EXIT_USAGE)
    return db


def _fetch_and_exit(
    console: Console, client: Client, fetch: Callable[[Client], PagesReport], what: str
) -> NoReturn:
    """Run ``fetch``, print its report, exit 0 (complete), 1 (stopped early) or 2 (usage)."""
    with client:
        try:
            report = fetch(client)
        except (ValueError, OpenAlexError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(EXIT_USAGE) from None
    _report(console, report, what)
    raise typer.Exit(EXIT_OK if report.complete else EXIT_DATA_ERROR)


@fetch_app.command("openalex")
def fetch_openalex(
    data: DataDirOption,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help="A filter in the API's own syntax (a,b: AND; x|y: OR)."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="A source by id (S...) or exact name. Repeatable: OR."),
    ] = None,
    year: Annotated[
        str | None, typer.Option("--year", help="Publication year YYYY or YYYY-YYYY.")
    ] = None,
    concept: Annotated[
        list[str] | None, typer.Option("--concept", help="A concept id (C...). Repeatable: OR.")
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="A topic id (T...). Repeatable: OR.")
    ] = None,
    institution: Annotated[
        list[str] | None,
        typer.Option("--institution", help="An institution by id (I...) or exact name."),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Only works of the OpenAlex authors already in this store."),
    ] = None,
    mailto: MailtoOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    max_requests: BudgetOption = None,
    name: NameOption = None,
    retry_delay: DelayOption = 1.0,
) -> None:
    """Fetch OpenAlex works matching a filter into DATA/openalex/api/NAME/ (a build reads them).

    Cursor paging (200 per page); an interrupted fetch continues where it stopped; a fetch
    that finished is updated incrementally (from_updated_date) when run again.
    Exit codes: 0 complete, 1 stopped early (budget or failed requests; run again), 2 usage.
    """
    console = Console(stderr=True)
    authors: tuple[str, ...] = ()
    if db is not None:
        ids, _ = store_authors(_store_or_exit(console, db))
        if not ids:
            console.print(f"[red]error:[/] no person in {db} has an OpenAlex author id")
            raise typer.Exit(EXIT_USAGE)
        authors = tuple(ids)
    works = WorkFilter(
        raw=filter_,
        sources=tuple(source or ()),
        years=year,
        concepts=tuple(concept or ()),
        topics=tuple(topic or ()),
        institutions=tuple(institution or ()),
        authors=authors,
    )
    client = _client(api_url, mailto, api_key, max_requests, retry_delay)
    _fetch_and_exit(console, client, lambda c: fetch_works(c, data, works, name=name), "works")


@fetch_app.command("openalex-authors")
def fetch_openalex_authors(
    data: DataDirOption,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Persons of this store with an OpenAlex id or ORCID iD."),
    ] = None,
    author: Annotated[
        list[str] | None, typer.Option("--author", help="An OpenAlex author id (A...).")
    ] = None,
    mailto: MailtoOption = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    api_key: ApiKeyOption = None,
    max_requests: BudgetOption = None,
    name: NameOption = None,
    retry_delay: DelayOption = 1.0,
) -> None:
    """Fetch author records (institutions by year) into DATA/openalex_authors/NAME/.

    Persons come from a built store (``persons.known_ids``: OpenAlex author ids given by the
    sources or linked by identity, and ORCID iDs), fetched 50 per request. A build reads
    them into ``author_affiliations``; ``build --careers-evidence papers+histories`` uses
    them. Exit codes as for ``fetch openalex``.
    """
    console = Console(stderr=True)
    ids = list(author or [])
    orcids: list[str] = []
    if db is not None:
        stored, orcids = store_authors(_store_or_exit(console, db))
        ids += stored
    client = _client(api_url, mailto, api_key, max_requests, retry_delay)
    _fetch_and_exit(
        console, client, lambda c: fetch_authors(c, data, ids, orcids, name=name), "authors"
    )
