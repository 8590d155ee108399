"""The labels the decisions write into ``person_links.cluster_evidence``.

One place for them: the decisions write them (``decide``, ``rescore``, ``place_clash``), and
the guards and the evaluation read them back to tell which rule made a link.
"""

from __future__ import annotations

#: Prefix of a link the unique-name rule made (name alone, few holders).
UNIQUE_NAME = "unique name;"
#: Prefix of a link the exact-name-and-an-old-co-author rule made.
SHARED_COAUTHOR = "shared co-author;"
#: Prefix of a link the second scoring round made.
SECOND_ROUND = "second round;"
#: A group of unidentified records adopted by its one best candidate.
GROUP = "group of unidentified authorships, one best candidate"
#: A record adopted with its group through a record linked to the person.
ADOPTED = "via linked authorships"
#: A record the place-clash guard took back (the key of the person it left follows).
REFUSED = "left apart: another institution than the person's records of the venue-year, from "
