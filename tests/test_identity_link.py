"""The identity stage on a small synthetic world and on hand-made cases.

The world: six labs, each with an institution, an e-mail domain and five members, writing
papers 2018-2023; from 2021 authors carry OpenReview ids, before that they come from paper
lists without ids. Three different people are called "Wei Wang" (labs A, B, C).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from talentflow.context import StageContext
from talentflow.identity import features, identifiers, stage

LABS = {
    "A": ("Tsinghua University", "tsinghua.edu.cn", "China"),
    "B": ("University of Toronto", "toronto.edu", "Canada"),
    "C": ("ETH Zurich", "ethz.ch", "Switzerland"),
    "D": ("University of Oxford", "ox.ac.uk", "United Kingdom"),
    "E": ("Google", "google.com", "United States"),
    "F": ("KAIST", "kaist.ac.kr", "South Korea"),
}
MEMBERS = {
    "A": ["Wei Wang", "Jiaxin Zhou", "Hao Tian", "Xinyu Fang", "Mingsheng Long"],
    "B": ["Wei Wang", "Amelia Hart", "Rahul Menon", "Sofia Lindqvist", "Kenji Ota"],
    "C": ["Wei Wang", "Lukas Brunner", "Chiara Rossi", "Andreas Vogel", "Nadia Petrova"],
    "D": ["Oliver Grant", "Ines Duarte", "Tomasz Nowak", "Priya Raman", "Jane Q. Doe"],
    "E": ["Daniel Brooks", "Mei Lin", "Samuel Okafor", "Elena Marquez", "Yuki Tanaka"],
    "F": ["Jisoo Park", "Minho Kim", "Seungwoo Lee", "Hyejin Cho", "Dongwon Yoo"],
}
COLUMNS = {
    "authorship_id": pa.string(),
    "paper_id": pa.string(),
    "venue": pa.string(),
    "year": pa.int64(),
    "source": pa.string(),
    "author_position": pa.int64(),
    "author_name": pa.string(),
    "source_person_id": pa.string(),
    "orcid": pa.string(),
    "dblp": pa.string(),
    "raw_affiliation": pa.string(),
    "email_domain": pa.string(),
    "label_country": pa.string(),
    "truth": pa.string(),
}


@dataclass
class World:
    """Rows of ``authorships`` and ``papers`` (``truth`` is the true person of each row)."""

    authorships: pa.Table
    papers: pa.Table


def openreview_id(name: str, lab: str) -> str:
    base = name.replace(".", "").replace(" ", "_")
    # Homonyms get distinct OpenReview numbers, as on OpenReview.
    number = "ABC".index(lab) + 1 if name == "Wei Wang" else 1
    return f"openreview:~{base}{number}"


def build_world(seed: int = 7, papers_per_lab_year: int = 2, labs: str = "ABCDEF") -> World:
    """Generate the world; the same seed gives the same rows."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    papers: list[dict[str, object]] = []
    topics = {
        "A": "transfer adaptation domain",
        "B": "causal inference bandits",
        "C": "robotics control manipulation",
        "D": "language parsing translation",
        "E": "retrieval ranking recommendation",
        "F": "vision segmentation detection",
    }
    for lab in labs:
        members = MEMBERS[lab]
        inst, domain, country = LABS[lab]
        for year in range(2018, 2024):
            with_ids = year >= 2021
            venue = "iclr" if year >= 2021 else "nips"
            for k in range(papers_per_lab_year):
                pid = f"{venue}{year}:{lab}{k}"
                authors = rng.sample(members, 3)
                papers.append({"paper_id": pid, "title": f"On {topics[lab]} {rng.randint(1, 99)}"})
                for pos, name in enumerate(authors):
                    truth = f"{lab}:{name}"
                    rows.append(
                        {
                            "authorship_id": f"{pid}#{pos}",
                            "paper_id": pid,
                            "venue": venue,
                            "year": year,
                            "source": "openreview" if with_ids else "paperlists",
                            "author_position": pos,
                            "author_name": name,
                            "source_person_id": openreview_id(name, lab) if with_ids else None,
                            "orcid": None,
                            "dblp": None,
                            "raw_affiliation": inst,
                            "email_domain": domain,
                            "label_country": country,
                            "truth": truth,
                        }
                    )
    return World(
        pa.Table.from_pylist(rows, schema=pa.schema(list(COLUMNS.items()))),
        pa.Table.from_pylist(papers),
    )


def row(
    authorship_id: str,
    name: str,
    *,
    year: int = 2021,
    venue: str = "iclr",
    spid: str | None = None,
    orcid: str | None = None,
    dblp: str | None = None,
    aff: str | None = None,
    domain: str | None = None,
    truth: str = "",
    country: str | None = None,
) -> dict[str, object]:
    """One authorship row with the contract's columns (for hand-made cases)."""
    paper = authorship_id.split("#", maxsplit=1)[0]
    return {
        "authorship_id": authorship_id,
        "paper_id": paper,
        "venue": venue,
        "year": year,
        "source": "openreview" if spid else "paperlists",
        "author_position": int(authorship_id.split("#")[1]),
        "author_name": name,
        "source_person_id": spid,
        "orcid": orcid,
        "dblp": dblp,
        "raw_affiliation": aff,
        "email_domain": domain,
        "label_country": country,
        "truth": truth,
    }


def table(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema(list(COLUMNS.items())))


def run_stage(authorships: pa.Table, papers: pa.Table | None = None, path: Path | None = None):
    """Run the identity stage on a fresh store holding these tables; return the connection."""
    con = ibis.duckdb.connect(str(path)) if path else ibis.duckdb.connect()
    con.create_table("authorships", authorships.drop_columns(["truth"]))
    if papers is not None:
        con.create_table("papers", papers)
    stage.run(StageContext(con=con, previous=None, data_dir=None))
    return con


def person_of(con) -> dict[str, str]:
    t = con.table("authorships").select("authorship_id", "person_id").to_pyarrow().to_pylist()
    return {r["authorship_id"]: r["person_id"] for r in t}


#: A "Wei Wang" on a paper of a lab none of the three works in (no shared co-author,
#: institution or domain): must stay a new person.
STRANGER = [
    row(
        "x1#0",
        "Wei Wang",
        year=2019,
        venue="nips",
        aff="Fudan University",
        domain="fudan.edu.cn",
        truth="X:Wei Wang",
    ),
    row(
        "x1#1",
        "Qiang Zhao",
        year=2019,
        venue="nips",
        aff="Fudan University",
        domain="fudan.edu.cn",
        truth="X:Qiang Zhao",
    ),
]


@pytest.fixture(scope="module")
def world() -> World:
    w = build_world()
    return World(pa.concat_tables([w.authorships, table(STRANGER)]), w.papers)


@pytest.fixture(scope="module")
def world_db(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("identity") / "store.duckdb"
    run_stage(world.authorships, world.papers, path=db).disconnect()
    return db


@pytest.fixture(scope="module")
def world_con(world_db: Path):
    con = ibis.duckdb.connect(str(world_db), read_only=True)
    yield con
    con.disconnect()


def test_every_authorship_gets_exactly_one_person(world: World, world_con) -> None:
    a = world_con.table("authorships")
    assert a.count().execute() == world.authorships.num_rows
    assert a.person_id.isnull().sum().execute() == 0
    links = world_con.table("person_links")
    assert links.count().execute() == world.authorships.num_rows
    assert set(links.rule.to_pyarrow().to_pylist()) <= {"identifier", "splink", "singleton"}


def test_people_are_neither_split_nor_merged(world: World, world_con) -> None:
    persons = person_of(world_con)
    truth = dict(
        zip(
            world.authorships["authorship_id"].to_pylist(),
            world.authorships["truth"].to_pylist(),
            strict=True,
        )
    )
    by_truth: dict[str, set[str]] = {}
    by_person: dict[str, set[str]] = {}
    for aid, pid in persons.items():
        by_truth.setdefault(truth[aid], set()).add(pid)
        by_person.setdefault(pid, set()).add(truth[aid])
    assert all(len(v) == 1 for v in by_person.values()), "a person merges different people"
    assert all(len(v) == 1 for v in by_truth.values()), "a person is split"


def test_one_person_across_sources_is_joined(world: World, world_con) -> None:
    # Paper-list records (2018-2020, no id) join the same person's OpenReview records.
    rows = world.authorships.filter(
        pa.compute.equal(world.authorships["truth"], "D:Jane Q. Doe")
    ).to_pylist()
    sources = {r["source"] for r in rows}
    assert sources == {"paperlists", "openreview"}
    persons = person_of(world_con)
    assert len({persons[r["authorship_id"]] for r in rows}) == 1
    links = world_con.table("person_links")
    no_id = [r["authorship_id"] for r in rows if r["source_person_id"] is None]
    rules = links.filter(links.authorship_id.isin(no_id)).rule.to_pyarrow().to_pylist()
    assert set(rules) == {"splink"}


def test_persons_table_follows_the_contract(world_con) -> None:
    persons = world_con.table("persons")
    assert persons.columns == (
        "person_id",
        "display_name",
        "known_ids",
        "first_year",
        "last_year",
        "n_papers",
        "n_authorships",
    )
    doe = persons.filter(persons.display_name == "Jane Q. Doe").to_pyarrow().to_pylist()
    assert len(doe) == 1
    assert doe[0]["known_ids"] == [openreview_id("Jane Q. Doe", "D")]
    assert (doe[0]["first_year"], doe[0]["last_year"]) == (2018, 2023)
    assert persons.n_authorships.sum().execute() == world_con.table("authorships").count().execute()
    assert all(
        p.startswith("P") and len(p) == 17 for p in persons.person_id.to_pyarrow().to_pylist()
    )


def test_parameters_are_recorded(world_con) -> None:
    bp = world_con.table("build_params")
    names = set(bp.filter(bp.stage == "identity").name.to_pyarrow().to_pylist())
    assert {"attach_threshold", "pair_threshold", "margin", "model", "blocking_rules"} <= names


@pytest.fixture(scope="module")
def hand_made():
    rows = [
        # a-b share a dblp id, b-c an ORCID, c-d an OpenReview id: one person.
        row("p1#0", "Ana Silva", spid="openreview:~Ana_Silva1", dblp="dblp:1/1"),
        row("p2#0", "Ana Silva", spid="acl:/a/ana-silva/", dblp="dblp:1/1", orcid="0000-0001"),
        row("p3#0", "A. Silva", orcid="0000-0001"),
        row("p4#0", "Ana M. Silva", spid="openreview:~Ana_Silva1"),
        row("p5#0", "Ana Silva", spid="openreview:~Ana_Silva2", aff="Elsewhere"),
        # One e-mail listed for two co-authors of one paper is not a person id.
        row("p6#0", "Victor Zhong", spid="email:0123"),
        row("p6#1", "Richard Socher", spid="email:0123"),
        row("p7#0", "Victor Zhong", spid="openreview:~Victor_Zhong1"),
    ]
    return run_stage(table(rows))


def test_identifiers_are_transitive(hand_made) -> None:
    persons = person_of(hand_made)
    assert len({persons[k] for k in ("p1#0", "p2#0", "p3#0", "p4#0")}) == 1
    assert persons["p5#0"] != persons["p1#0"]
    known = hand_made.table("persons").known_ids.to_pyarrow().to_pylist()
    assert sorted(known, key=len)[-1] == [
        "acl:/a/ana-silva/",
        "dblp:1/1",
        "openreview:~Ana_Silva1",
        "orcid:0000-0001",
    ]
    links = hand_made.table("person_links")
    rule = links.filter(links.authorship_id == "p3#0").rule.execute().iloc[0]
    assert rule == "identifier"


def test_an_id_shared_by_coauthors_of_one_paper_does_not_merge_them(hand_made) -> None:
    persons = person_of(hand_made)
    assert persons["p6#0"] != persons["p6#1"]


def test_homonyms_are_kept_apart(world: World, world_con) -> None:
    persons = person_of(world_con)
    t = world.authorships.to_pylist()
    wei = {}
    for r in t:
        if r["author_name"] == "Wei Wang":
            wei.setdefault(r["truth"], set()).add(persons[r["authorship_id"]])
    assert len(wei) == 4  # three labs and the stranger
    assert all(len(v) == 1 for v in wei.values())
    assert len(set().union(*wei.values())) == 4


def test_a_homonym_without_evidence_stays_new(world: World, world_con) -> None:
    persons = person_of(world_con)
    existing = {
        persons[r["authorship_id"]]
        for r in world.authorships.to_pylist()
        if r["author_name"] == "Wei Wang" and r["authorship_id"] != "x1#0"
    }
    assert len(existing) == 3
    assert persons["x1#0"] not in existing


def test_same_input_gives_same_output(world: World, world_con) -> None:
    again = run_stage(world.authorships, world.papers)
    for name in ("person_links", "persons"):
        a = (
            world_con.table(name)
            .order_by("person_id" if name == "persons" else "authorship_id")
            .to_pyarrow()
        )
        b = (
            again.table(name)
            .order_by("person_id" if name == "persons" else "authorship_id")
            .to_pyarrow()
        )
        assert a.equals(b), name


def test_link_explain_cli(world_db: Path, world_con) -> None:
    from typer.testing import CliRunner

    from talentflow.cli import app

    persons = world_con.table("persons")
    doe = (
        persons.filter(persons.display_name == "Jane Q. Doe").person_id.to_pyarrow().to_pylist()[0]
    )
    result = CliRunner().invoke(app, ["link", "explain", doe, "--db", str(world_db)])
    assert result.exit_code == 0, result.output
    assert "Jane Q. Doe" in result.output
    assert "splink" in result.output and "identifier" in result.output
    missing = CliRunner().invoke(app, ["link", "explain", "Pnope", "--db", str(world_db)])
    assert missing.exit_code != 0


# Spark parity (one shared cheap session for this module).


@pytest.fixture(scope="module")
def spark_con(spark_session_shared):
    return ibis.pyspark.connect(spark_session_shared)


def identified_on(con, authorships, prefix: str = "idp_"):
    """``(authorships, features, trusted ids, identifier clusters)`` of a pyarrow table, as
    the stage computes them, written to ``con`` under fresh names (a Spark session shared
    with other modules may already hold a warehouse)."""
    tag = prefix + uuid.uuid4().hex[:8]
    con.create_table(f"{tag}_authorships", ibis.memtable(authorships), overwrite=True)
    a = con.table(f"{tag}_authorships")
    con.create_table(f"{tag}_names", features.name_table(con, a), overwrite=True)
    feats = features.authorship_features(a, con.table(f"{tag}_names"), None)
    con.create_table(f"{tag}_features", feats, overwrite=True)
    feats = con.table(f"{tag}_features")
    ids = identifiers.trusted_ids(identifiers.authorship_ids(a), feats)
    con.create_table(f"{tag}_ids", ids, overwrite=True)
    ids = con.table(f"{tag}_ids")
    return a, feats, ids, identifiers.identifier_clusters(con, a, ids=ids)


def _clusters(con, authorships) -> dict[str, str]:
    """Identifier clusters (after the trust guards) computed on ``con``."""
    cl = identified_on(con, authorships)[3]
    rows = cl.to_pyarrow().to_pylist()
    return {r["authorship_id"]: r["cluster_key"] for r in rows}


@pytest.mark.spark
def test_identifier_clusters_agree_on_duckdb_and_spark(spark_con) -> None:
    world = build_world(papers_per_lab_year=1, labs="ABD")
    authorships = world.authorships.drop_columns(["truth"])
    on_duckdb = _clusters(ibis.duckdb.connect(), authorships)
    on_spark = _clusters(spark_con, authorships)
    assert on_duckdb  # the world has ids from 2021 on
    assert on_spark == on_duckdb


def _ids_only_people() -> list[dict[str, object]]:
    """People seen only with OpenReview ids, under names no record without an id shares,
    and an id fragment: a DBLP-only "Zora Quill" who shares two co-authors with the
    OpenReview "Zora Quill"."""
    rows = [
        row(f"z{k}#0", f"Zed{k} Quorum", spid=f"openreview:~Zed{k}_Quorum1", aff="Quorum Lab")
        for k in range(20)
    ]
    for paper, spid in (("q1", "dblp:zq"), ("q2", "openreview:~Zora_Quill1")):
        rows.append(
            row(
                f"{paper}#0",
                "Zora Quill",
                spid=None if "dblp" in spid else spid,
                dblp=spid if "dblp" in spid else None,
            )
        )
        rows.append(row(f"{paper}#1", "Ann Coe", spid="openreview:~Ann_Coe1"))
        rows.append(row(f"{paper}#2", "Bo Dee", spid="openreview:~Bo_Dee1"))
    return rows


def test_clusters_no_block_can_reach_are_not_summarised(world: World, monkeypatch) -> None:
    """The entity table summarises only the clusters scoring or decisions can look at, and
    the links and the trained model are those of the full table."""
    from talentflow.identity import model
    from talentflow.identity.link import link

    con = ibis.duckdb.connect()
    rows = pa.concat_tables([world.authorships, table(_ids_only_people())])
    con.create_table("authorships", rows.drop_columns(["truth"]))
    con.create_table("papers", world.papers)
    # A small u sample, so that it does not draw every entity (then nothing is left out).
    params = {"u_max_pairs": 50}

    def run() -> tuple[dict[str, object], list[dict[str, object]], dict[str, object]]:
        result = link(con, con.table("authorships"), con.table("papers"), params=params)
        rows = result.assignments.order_by("authorship_id").to_pyarrow().to_pylist()
        result.drop(con)
        return result.stats, rows, result.model

    stats, pruned, trained = run()
    assert stats["summarised_clusters"] < stats["strong_clusters"]
    key = {r["authorship_id"]: r["person_key"] for r in pruned}
    assert key["q1#0"] == key["q2#0"]  # the id fragment is still merged
    monkeypatch.setattr(
        model, "comparable", lambda keys, p=None: keys.filter(keys.is_cluster).select("entity_id")
    )
    full_stats, full, full_model = run()
    assert full_stats["summarised_clusters"] == full_stats["strong_clusters"]
    assert full_stats["entities"] == stats["entities"]
    assert pruned == full
    # the same trained model (splink names each linker at random)
    assert {**trained, "linker_uid": None} == {**full_model, "linker_uid": None}


def test_a_long_author_list_keeps_the_same_co_authors_whatever_the_row_order() -> None:
    """A paper with more authors than ``max_coauthors`` keeps the first of its co-authors'
    keys in sorted order: not whichever the engine collected first."""
    names = [f"Author{chr(97 + i // 26)}{chr(97 + i % 26)} Person" for i in range(12)]
    rows = [row(f"p1#{i}", n) for i, n in enumerate(names)]
    kept = []
    for order in (rows, rows[::-1]):
        con = ibis.duckdb.connect()
        con.create_table("a", table(order).drop_columns(["truth"]))
        a = con.table("a")
        nt = con.create_table("names", features.name_table(con, a))
        base = features.authorship_features(a, nt, None, lists=False)
        out = features.with_lists(base, base, None, max_coauthors=5)
        got = {r["authorship_id"]: r["coauthors"] for r in out.to_pyarrow().to_pylist()}
        kept.append(got)
        keys = sorted(f"{n.split()[0].lower()} person" for n in names[1:])
        assert got["p1#0"] == keys[:5]
    assert kept[0] == kept[1]


def test_lists_of_some_authorships_are_those_of_the_full_features(world: World) -> None:
    """Co-author and topic lists added to a subset of authorships (as the linkage does for
    the entities it compares) equal the full feature table's lists for those rows."""
    con = ibis.duckdb.connect()
    con.create_table("authorships", world.authorships.drop_columns(["truth"]))
    con.create_table("papers", world.papers)
    a, papers = con.table("authorships"), con.table("papers")
    names = con.create_table("names", features.name_table(con, a))
    full = features.authorship_features(a, names, papers)
    base = con.create_table("base", features.authorship_features(a, names, papers, lists=False))
    assert "coauthors" not in base.columns and "topics" not in base.columns
    # first authors only: their co-authors are rows outside the subset
    some = base.filter(base.authorship_id.endswith("#0"))
    listed = features.with_lists(some, base, papers)
    assert listed.columns == full.columns

    def rows(t: ibis.Table) -> list[dict[str, object]]:
        out = t.order_by("authorship_id").to_pyarrow().to_pylist()
        for r in out:  # lists are sets: their order is the engine's
            r["coauthors"] = sorted(r["coauthors"] or [])
            r["topics"] = sorted(r["topics"] or [])
        return out

    expected = rows(full.filter(full.authorship_id.endswith("#0")))
    assert any(r["coauthors"] for r in expected) and any(r["topics"] for r in expected)
    assert rows(listed) == expected
