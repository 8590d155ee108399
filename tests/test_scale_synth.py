"""The synthetic corpus generator: sizes, layout, realism and reproducibility."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from talentflow.synth import generate
from talentflow.synth.careers import orcid_check

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(6_000, out, seed=7, data_dir=DATA, block_slots=2_500)
    return out


def _slots(corpus: Path) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"""
        SELECT w.id, w.publication_year AS year, a.*
        FROM read_json('{corpus}/works/updated_date=*/part_*.gz', format='newline_delimited') w,
             unnest(w.authorships) AS t(a)
        """
    )


def test_layout_and_exact_size(corpus: Path) -> None:
    parts = sorted(corpus.glob("works/updated_date=*/part_*.gz"))
    assert len(parts) == 3  # 6,000 slots in blocks of 2,500
    manifest = json.loads((corpus / "works" / "manifest").read_text())
    assert [e["url"] for e in manifest["entries"]] == [str(p.relative_to(corpus)) for p in parts]
    lines = sum(gzip.decompress(p.read_bytes()).count(b"\n") for p in parts)
    assert manifest["meta"]["record_count"] == lines
    n = duckdb.sql(
        f"SELECT sum(len(authorships)) FROM read_json('{corpus}/works/*/*.gz')"
    ).fetchone()[0]
    assert n == 6_000
    meta = json.loads((corpus / "synth.meta").read_text())
    assert meta["n_authorships"] == 6_000 and meta["n_works"] == lines


def test_records_follow_current_openalex_schema(corpus: Path) -> None:
    part = next(iter(sorted(corpus.glob("works/*/part_*.gz"))))
    with gzip.open(part, "rt") as fh:
        work = json.loads(fh.readline())
    assert work["id"].startswith("https://openalex.org/W")
    assert work["title"] == work["display_name"]
    assert isinstance(work["publication_year"], int)
    assert work["primary_location"]["source"]["display_name"]
    au = work["authorships"]
    assert au[0]["author_position"] == "first"
    if len(au) > 1:
        assert au[-1]["author_position"] == "last"
    for a in au:
        assert a["author"]["id"].startswith("https://openalex.org/A")
        assert isinstance(a["raw_affiliation_strings"], list)
        for inst in a["institutions"]:
            assert set(inst) >= {"display_name", "ror", "country_code", "type"}
            assert inst["ror"].startswith("https://ror.org/0")


def test_positions_are_consecutive_and_authors_not_repeated(corpus: Path) -> None:
    bad = duckdb.sql(
        f"""
        SELECT count(*) FROM read_json('{corpus}/works/*/*.gz') w
        WHERE len(authorships) <> len(list_distinct(
            list_transform(authorships, a -> a.author.id)))
        """
    ).fetchone()[0]
    works = duckdb.sql(f"SELECT count(*) FROM read_json('{corpus}/works/*/*.gz')").fetchone()[0]
    # A prolific person is rarely listed twice on one work (0.4% at 200k slots; more in a
    # tiny corpus, whose early years hold only a handful of slots).
    assert bad / works < 0.1


def test_strings_come_from_the_real_mirror(corpus: Path) -> None:
    raw = {
        r[0]
        for r in _slots(corpus)
        .query("s", "SELECT DISTINCT unnest(raw_affiliation_strings) FROM s")
        .fetchall()
    }
    real = {
        r[0]
        for r in duckdb.sql(
            f"""
            SELECT DISTINCT trim(unnest(string_split(aff, ';')))
            FROM read_json(['{DATA}/paperlists/*/*.json', '{DATA}/openreview/*/*.json'],
                           columns={{aff: 'VARCHAR'}}, format='array', union_by_name=true)
            """
        ).fetchall()
    }
    assert len(raw) > 100
    assert raw <= real


def test_distributions_are_realistic(corpus: Path) -> None:
    slots = _slots(corpus)
    share_missing = slots.query(
        "s", "SELECT avg((len(raw_affiliation_strings) = 0)::INT) FROM s"
    ).fetchone()[0]
    assert 0.02 < share_missing < 0.15
    # Zipf-like institution sizes: the biggest institution far above the median one.
    sizes = [
        r[0]
        for r in slots.query(
            "s",
            "SELECT count(*) n FROM s, unnest(s.institutions) t(i) GROUP BY i.id ORDER BY n DESC",
        ).fetchall()
    ]
    assert sizes[0] > 10 * sizes[len(sizes) // 2]
    # Heavy-tailed output per author, and some authors observed in two or more countries.
    per_author = slots.query(
        "s",
        """SELECT count(*) n, count(DISTINCT s.institutions[1].country_code) c
           FROM s GROUP BY author.id""",
    ).fetchall()
    counts = sorted(n for n, _ in per_author)
    assert counts[len(counts) // 2] <= 2 and counts[-1] >= 20
    movers = sum(1 for _, c in per_author if c >= 2)
    assert 0 < movers < len(per_author) * 0.3
    years = slots.query("s", "SELECT min(year), max(year) FROM s").fetchone()
    assert years[0] >= 1990 and years[1] <= 2025


def test_same_seed_same_corpus_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 1), (b, 1), (c, 2)):
        generate(1_500, out, seed=seed, data_dir=DATA, block_slots=1_000)

    def text(root: Path) -> list[str]:
        return [gzip.decompress(p.read_bytes()).decode() for p in sorted(root.glob("works/*/*.gz"))]

    assert text(a) == text(b)
    assert text(a) != text(c)


def test_orcid_check_digit() -> None:
    import numpy as np

    # ORCID's documented example iDs: 0000-0002-1825-0097 and 0000-0002-1694-233X.
    assert orcid_check(np.array([21825009, 21694233])).tolist() == [7, 10]


def test_cli_synth(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from talentflow.cli import app

    result = CliRunner().invoke(
        app, ["synth", "--authorships", "800", "--out", str(tmp_path), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("works/updated_date=*/part_000.gz"))
    bad = CliRunner().invoke(app, ["synth", "--authorships", "0", "--out", str(tmp_path)])
    assert bad.exit_code != 0
