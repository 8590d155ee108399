"""OpenReview profile fields follow ``or_profile``, not the author order: put back per author."""

from __future__ import annotations

import json

from talentflow.pipeline import build
from talentflow.sources.profile_order import kept_slots, order, orders
from tests.conftest import rows


def _built(tmp_path, rel: str, records: list[dict]):
    """A store holding the sources stage's rows of ``records`` written at ``rel``."""
    path = tmp_path / "data" / rel
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(records))
    db = tmp_path / "s.duckdb"
    build(tmp_path / "data", db, stages=["sources"])
    return db


def test_same_ids_keep_their_place_and_renamed_ids_are_found_by_name() -> None:
    # OpenReview lists current ids first, in author order, then renamed ones appended.
    authors = ["Yue Wu", "Maoguo Gong", "Hao Li", "Qiguang Miao", "Wenping Ma"]
    ids = ["~Yue_Wu14", "~Maoguo_Gong2", "~Hao_Li12", "~Qiguang_Miao1", "~Wenping_Ma3"]
    profiles = ["~Yue_Wu14", "~Qiguang_Miao1", "~Li_Hao3", "~Gong_Maoguo1", "~wenping_ma1"]
    assert order(authors, ids, profiles) == [0, 3, 2, 1, 4]


def test_looser_names_place_middle_names_spellings_and_a_last_one() -> None:
    authors = ["Ramin Hasani", "Brendan O'Donoghue", "Hao-Tian Li", "Jiale Li", "Noel Loo"]
    ids = ["~Ramin_Hasani1", "~Brendan_O'Donoghue1", "~Hao-Tian_Li1", "~Jiale_Li5", "~Noel_Loo1"]
    profiles = [
        "~Noel_Loo1",
        "~JialeLi2",
        "~Haotian_Li1",
        "~Brendan_ODonoghue1",
        "~Ramin_M._Hasani1",
    ]
    assert order(authors, ids, profiles) == [4, 3, 2, 1, 0]
    # a different name altogether: placed only as the one entry left
    assert order(["A B", "Satinder Singh"], ["~A_B1", "~Satinder_Singh2"], ["~A_B1", "~X_Y2"]) == [
        0,
        1,
    ]


def test_namesakes_are_never_guessed_and_authors_without_profiles_get_empty_entries() -> None:
    # Two renamed "Wei Li"s and two entries: which is which is unknown.
    got = order(
        ["Wei Li", "Wei Li", "C D"],
        ["~Wei_Li3", "~Wei_Li8", "~C_D1"],
        ["~C_D1", "~Wei_Li9", "~Wei_Li4"],
    )
    assert got == [None, None, 0]
    # E-mails without profiles: their entries are empty, and so are their fields.
    assert order(["A B", "C D", "E F"], ["a@x.org", "c@y.org", "~E_F1"], ["", "~E_F1", ""]) == [
        0,
        2,
        1,
    ]
    assert order(["A B"], ["~A_B1"], ["~A_B1", "~C_D1"]) is None


def test_orders_table_is_one_based_for_sql() -> None:
    t = orders(
        [("A B;C D", "~A_B2;~C_D1", "~C_D1;~A_B1"), ("A B;A B", "~A_B1;~A_B2", "~A_B3;~A_B4")]
    )
    assert t.column("perm").to_pylist() == [[2, 1], [None, None]]


def test_reader_gives_each_author_their_own_profile_fields(tmp_path) -> None:
    paper = {
        "id": "p1",
        "title": "A paper",
        "author": "Mehrdad Ghadiri;David Arbour;Tung Mai",
        "authorids": "~Mehrdad_Ghadiri2;~David_Arbour1;~Tung_Mai1",
        # profile fields in or_profile order: the renamed first author comes last
        "or_profile": "~David_Arbour1;~Tung_Mai1;~Mehrdad_Ghadiri1",
        "aff": "Adobe Research;Adobe;Georgia Institute of Technology",
        "aff_domain": "adobe.com;adobe.com;gatech.edu",
        "position": "Research Scientist;Researcher;PhD student",
        "dblp": "87/7578;177/8902;172/1358",
    }
    twins = {
        "id": "p2",
        "title": "Another paper",
        "author": "Wei Li;Wei Li;Ann Lee",
        "authorids": "~Wei_Li3;~Wei_Li8;~Ann_Lee1",
        "or_profile": "~Ann_Lee1;~Wei_Li9;~Wei_Li4",
        "aff": "Stanford University;Peking University;Tsinghua University",
        "aff_domain": "stanford.edu;pku.edu.cn;tsinghua.edu.cn",
        "position": "Professor;PhD student;Postdoc",
        "dblp": "1/1;2/2;3/3",
    }
    db = _built(tmp_path, "openreview/nips/nips2023.json", [paper, twins])
    got = rows(
        db,
        """SELECT author_name, raw_affiliation, email_domain, career_position, dblp, aligned,
                  misaligned_fields
           FROM authorships WHERE paper_id LIKE '%p1' ORDER BY author_position""",
    )
    assert got == [
        ("Mehrdad Ghadiri", "Georgia Institute of Technology", "gatech.edu", "PhD student",
         "dblp:172/1358", True, []),
        ("David Arbour", "Adobe Research", "adobe.com", "Research Scientist", "dblp:87/7578",
         True, []),
        ("Tung Mai", "Adobe", "adobe.com", "Researcher", "dblp:177/8902", True, []),
    ]  # fmt: skip
    twins_got = rows(
        db,
        """SELECT author_name, raw_affiliation, career_position, aligned, misaligned_fields
           FROM authorships WHERE paper_id LIKE '%p2' ORDER BY author_position""",
    )
    # The two renamed Wei Lis cannot be told apart: no fields rather than a guess, and said so.
    assert twins_got[:2] == [("Wei Li", None, None, False, ["or_profile"])] * 2
    assert twins_got[2] == ("Ann Lee", "Stanford University", "Professor", True, [])


def test_paper_list_labels_follow_their_affiliations(tmp_path) -> None:
    # Paper Copilot lists built from OpenReview: affiliations and their label indexes are
    # both in or_profile order.
    paper = {
        "id": "p1",
        "title": "A paper",
        "author": "Sandeep Chinchali;Mariano Phielipp",
        "authorids": "~Sandeep_Chinchali2;~Mariano_Phielipp2",
        "or_profile": "~Mariano_Phielipp2;~Sandeep_P._Chinchali1",
        "aff": "Intel Labs;University of Texas at Austin",
        "aff_unique_norm": "Intel;University of Texas at Austin",
        "aff_unique_index": "0;1",
        "aff_country_unique": "United States",
        "aff_country_unique_index": "0;0",
    }
    db = _built(tmp_path, "paperlists/corl/corl2024.json", [paper])
    got = rows(
        db,
        """SELECT author_name, raw_affiliation, label_institution FROM authorships
           ORDER BY author_position""",
    )
    assert got == [
        ("Sandeep Chinchali", "University of Texas at Austin", "University of Texas at Austin"),
        ("Mariano Phielipp", "Intel Labs", "Intel"),
    ]


def test_kept_slots_from_homepages_when_or_profile_is_missing() -> None:
    authors = ["Ann Lee", "Bo Chen", "Cy Park", "Di Wu"]
    # Bo Chen renamed: profile order Ann, Cy, Di, Bo; the homepages follow it.
    homepages = ["https://annlee.io", "https://cypark.org", "", "https://bochen.net"]
    assert kept_slots(authors, homepages) == 1
    # Nothing spells another author: nothing is shown out of order.
    assert kept_slots(authors, ["https://annlee.io", "", "", ""]) is None
    # A LinkedIn handle shows it from the first slot on: nothing is kept.
    assert kept_slots(authors, ["", "", "", ""], ["bo-chen-12/", "", "", ""]) == 0


def test_reader_drops_fields_it_cannot_order_without_or_profile(tmp_path) -> None:
    shifted = {
        "id": "p1",
        "title": "A paper",
        "author": "Ann Lee;Bo Chen;Cy Park",
        "authorids": "~Ann_Lee1;~Bo_Chen3;~Cy_Park1",
        "aff": "MIT;Stanford University;Tsinghua University",
        "position": "Professor;PhD student;Postdoc",
        "homepage": "https://annlee.io;https://cypark.org;https://bochen.net",
    }
    plain = {
        "id": "p2",
        "title": "Another paper",
        "author": "Ann Lee;Eve Ng",
        "authorids": "~Ann_Lee1;~Eve_Ng1",
        "aff": "MIT;ETH Zurich",
        "homepage": "https://annlee.io;https://eveng.ch",
    }
    db = _built(tmp_path, "openreview/iclr/iclr2023.json", [shifted, plain])
    got = rows(
        db,
        """SELECT author_name, raw_affiliation, career_position, misaligned_fields
           FROM authorships ORDER BY paper_id, author_position""",
    )
    assert got == [
        ("Ann Lee", "MIT", "Professor", []),
        ("Bo Chen", None, None, ["or_profile"]),
        ("Cy Park", None, None, ["or_profile"]),
        ("Ann Lee", "MIT", None, []),
        ("Eve Ng", "ETH Zurich", None, []),
    ]
