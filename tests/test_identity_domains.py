"""E-mail domain fields that list several positions (``mbzuai.ac.ae+petuum.com``).

OpenReview's newer records join the domains of every current position with ``+``; the whole
field is no domain, and each of its parts says where the person works.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from talentflow.identity import features
from tests.test_identity_link import row, table


def _features(rows: list[dict[str, object]]):
    con = ibis.duckdb.connect()
    con.create_table("a", table(rows).drop_columns(["truth"]))
    a = con.table("a")
    names = con.create_table("names", features.name_table(con, a))
    return con, features.authorship_features(a, names, None)


@pytest.mark.parametrize(
    ("field", "domain", "more"),
    [
        ("cs.toronto.edu", "toronto.edu", None),
        ("mbzuai.ac.ae+petuum.com", "mbzuai.ac.ae", ["petuum.com"]),
        ("imperial.ac.uk + yingzhenl", "imperial.ac.uk", None),
        ("gmail.com+cs.cmu.edu", None, ["cmu.edu"]),
        ("a.edu+b.org+eng.ox.ac.uk+d.com", "a.edu", ["b.org", "ox.ac.uk"]),
        (None, None, None),
    ],
)
def test_each_part_of_a_joined_field_is_a_domain(field, domain, more) -> None:
    _, f = _features([row("p1#0", "Qi Ro", domain=field)])
    got = f.select("domain", "more_domains").to_pyarrow().to_pylist()[0]
    assert got == {"domain": domain, "more_domains": more}


def test_entities_hold_every_domain_of_their_records() -> None:
    """A record's entity and an identifier cluster's entity both list the second domain, so
    a person's earlier record at Petuum meets a new record at MBZUAI+Petuum."""
    rows = [
        row("p1#0", "Qi Ro", domain="mbzuai.ac.ae+petuum.com"),
        row("p2#0", "Qi Ro", spid="openreview:~Qi_Ro1", domain="petuum.com", year=2022),
        row("p3#0", "Qi Ro", spid="openreview:~Qi_Ro1", domain="cs.cmu.edu+petuum.com"),
    ]
    _, f = _features(rows)
    record = features.record_entities(f.filter(f.authorship_id == "p1#0"))
    assert sorted(record.to_pyarrow().column("domains").to_pylist()[0]) == [
        "mbzuai.ac.ae",
        "petuum.com",
    ]
    clusters = ibis.memtable(
        pa.table(
            {
                "authorship_id": ["p2#0", "p3#0"],
                "cluster_key": ["openreview:~Qi_Ro1"] * 2,
                "cluster_number": [1, 1],
                "strong": [True, True],
            }
        )
    )
    cluster = features.cluster_entities(f, clusters).to_pyarrow().to_pylist()[0]
    assert sorted(cluster["domains"]) == ["cmu.edu", "petuum.com"]
    # a cluster whose records have one domain each is unchanged
    single = features.cluster_entities(f, clusters.filter(clusters.authorship_id == "p2#0"))
    assert single.to_pyarrow().column("domains").to_pylist() == [["petuum.com"]]
