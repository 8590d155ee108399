"""Subfield tags for papers: transparent, ordered rules on title, keywords, abstract and venue.

Every paper gets exactly one of :data:`SUBFIELDS`. Rules are tried in order and the first that
fires wins; the ``rule`` column says which one (``<subfield>:<kind>:<matched text>``), so a
surprising tag can always be explained. The order encodes priorities:

1. ``llm`` vocabulary in the title, keywords or abstract (large/pre-trained language models,
   instruction tuning, RLHF, in-context learning, chain of thought, foundation models,
   GPT/BERT/LLaMA families...). "language model" alone (title/keywords) counts as ``llm`` only
   from the LLM era on (earlier it is ``nlp``). All other text rules read only the title and
   keywords: abstracts mention images, bounds or text in passing too often.
2. Venues whose scope is one subfield (CoRL -> robotics; CVPR/ICCV/ECCV/WACV/3DV/ACM MM -> vision;
   ACL/NAACL/EMNLP/COLING/EACL -> nlp), so e.g. "deep reinforcement learning for inpainting"
   at CVPR stays vision.
3. Text rules, in this order: robotics, rl, vision, nlp, theory.
4. Weak venue defaults (COLM -> llm; COLT/ALT -> theory).
5. ``other_ml``.

The rules were written from general vocabulary and revised once against the labelled sample in
``indicators/data/subfield_labels.csv`` (see docs/indicators.md); precision on that sample is
therefore somewhat optimistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SUBFIELDS = ("llm", "nlp", "vision", "rl", "robotics", "theory", "other_ml")

#: Default first year of the "LLM era": BERT (NAACL) and GPT-2 were published in 2019.
LLM_ERA_START = 2019


@dataclass(frozen=True)
class Rule:
    """One classification rule: a regex on the text, or a set of venues."""

    subfield: str
    kind: str  # "text" or "venue"
    pattern: str = ""
    venues: tuple[str, ...] = ()
    min_year: int | None = None  # rule applies only from this year on (None: always)
    abstract: bool = False  # also search the abstract (only for specific vocabulary)


_LLM = (
    r"\b(?:large|pre-?trained|foundation|masked|multi-?modal|vision[- ]language|autoregressive"
    r"|code|causal) language[- ]model(?:s|ing)?\b"
    r"|\b(?:m|vl)?llms?\b|\bvlms?\b|\bllm\w*|\bchatgpt\b|\bgpt(?:-?\d\w*)?\b"
    r"|\b(?:\w+-)?bert\w*|\b(?:ro|de|distil|sci|bio|code|tiny|span|m)bert\w*"
    r"|\bllama\w*|\bt5\b|\brwkv\b|\bmistral\b|\bclaude\b|\bgemini\b"
    r"|\binstruction[- ]?(?:tun\w*|follow\w*)|\bin-context learning\b|\bchain[- ]of[- ]thoughts?\b"
    r"|\btree[- ]of[- ]thoughts?\b|\bprompt engineering\b|\brlhf\b|\bhuman feedback\b"
    r"|\bpreference optimi[sz]ation\b|\bdpo\b|\bfoundation (?:models?|agents?)\b"
    r"|\bretrieval[- ]augmented generation\b|\bjailbreak\w*|\bscaling laws?\b"
    r"|\bvision[- ]language[- ]action\b|\bembodied multimodal language\b"
)
_ROBOTICS = (
    r"\brobot\w*|\bmanipulat(?:ion|or)s?\b|\bgrasp\w*|\blocomotion\b|\bloco-manipulation\b"
    r"|\blegged\b|\bhumanoid\b|\bquadruped\w*|\bdrones?\b|\buavs?\b|\bautonomous (?:driving|vehicles?)\b"
    r"|\bself-driving\b|\bmotion planning\b|\btactile\b|\bsim-to-real\b|\boccupancy grid\b"
    r"|\bcollision avoidance\b|\bparkour\b|\baffordances?\b"
)
_RL = (
    r"\breinforcement learning\b|\brl\b|\bmarl\b|\bbandits?\b|\bmdps?\b|\bmarkov decision\b"
    r"|\bpolicy gradient\b|\bq-learning\b|\btemporal[- ]difference\b|\bactor-critic\b|\boff-policy\b"
    r"|\bimitation learning\b|\binverse reinforcement\b|\brewards?\b|\bexploration\b"
    r"|\bintrinsic (?:motivation|control)\b|\bcontinuous control\b"
    r"|\bpolicy (?:gradient|optimi|learning|iteration|evaluation|search)\w*"
    r"|\b(?:learned|learning|optimal|synthesized|robust|safe|deep) polic(?:y|ies)\b"
)
_VISION = (
    r"\bimages?\b|\bimage-to-image\b|\bvideos?\b|\bvisual\w*|\bvision\b|\bpixels?\b|\bsegmentation\b"
    r"|\bobject detect\w*|\bpedestrian\w*|\bdetectors?\b|\b3d\b|\bpoint clouds?\b|\blidar\b"
    r"|\bdepth\b|\bpose\b|\boptical flow\b|\bfaces?\b|\bfacial\b|\bre-?identification\b|\bcameras?\b"
    r"|\bstereo\b|\bscenes?\b|\bsuper-resolution\b|\bdeblur\w*|\binpainting\b|\bstyle transfer\b"
    r"|\bgans?\b|\bgenerative adversarial\b|\btext-to-image\b|\bvits?\b|\bvision transformers?\b"
    r"|\baction recognition\b|\bphotometric\b|\bmesh\w*|\brendering\b|\bnerfs?\b|\btone mapping\b"
    r"|\bkeypoints?\b|\bcamouflaged\b|\banimation\b|\bimaging\b"
)
_NLP = (
    r"\bnatural language\b|\blanguages?\b|\bmultilingual\b|\bcross-lingual\b|\btexts?\b|\btextual\b"
    r"|\bsentences?\b|\bwords?\b|\btranslation\b|\bsummari[sz]\w*|\bdialog\w*|\bconversation\w*"
    r"|\bquestion answering\b|\bqa\b|\bpars(?:ing|ers?)\b|\bspeech\b|\basr\b|\bsentiment\b"
    r"|\bnamed entit\w*|\bcorpus\b|\bcorpora\b|\blingu\w*|\bmorpholog\w*|\btokeni[sz]\w*|\bparaphras\w*"
    r"|\bfake news\b|\brelation (?:triple )?extraction\b|\btext-to-sql\b|\bphonem\w*|\bdense retrieval\b"
    r"|\bcloze\b|\bsyntax\w*|\blanguage[- ]model\w*"
)
_THEORY = (
    r"\bbounds?\b|\bregret\b|\bconvergen\w*|\bcomplexity\b|\bminimax\b|\bprovabl[ey]\b"
    r"|\bguarantees?\b|\btheor(?:y|em|etical)\w*|\bimplicit (?:bias|regulari[sz]ation)\b"
    r"|\bmean-field\b|\bpac\b|\boptimal rates?\b|\bfast rates?\b|\bconvex\w*|\bonline learning\b"
    r"|\bonline (?:linear|convex) optimi[sz]ation\b|\bsgd\b|\bstochastic gradient\b|\bcoresets?\b"
    r"|\bsubmodular\b|\bdensity estimation\b|\blearning curves?\b|\bidentifiability\b"
    r"|\bstochastic block model\b|\bnewton\b|\bleast squares\b|\blasso\b|\bpca\b|\bprincipal component\b"
    r"|\bexp-concave\b|\bu-statistics\b|\bm-estimation\b|\bbilevel\b|\bdescent ascent\b"
)

#: The rules in the order they are tried.
RULES: tuple[Rule, ...] = (
    Rule("llm", "text", _LLM, abstract=True),
    Rule("llm", "text", r"\blanguage[- ]model(?:s|ing)?\b", min_year=LLM_ERA_START),
    Rule("robotics", "venue", venues=("corl", "rss", "icra", "iros")),
    Rule("vision", "venue", venues=("cvpr", "iccv", "eccv", "wacv", "3dv", "acmmm", "bmvc")),
    Rule("nlp", "venue", venues=("acl", "naacl", "emnlp", "coling", "eacl", "aacl", "conll")),
    Rule("robotics", "text", _ROBOTICS),
    Rule("rl", "text", _RL),
    Rule("vision", "text", _VISION),
    Rule("nlp", "text", _NLP),
    Rule("theory", "text", _THEORY),
    Rule("llm", "venue", venues=("colm",)),
    Rule("theory", "venue", venues=("colt", "alt")),
)


def _text(papers: pd.DataFrame, *, abstract: bool) -> pa.Array:
    """Lower-cased ``title | keywords`` (and ``| abstract``) as an Arrow string array."""
    cols = ["title", "keywords", "abstract"] if abstract else ["title", "keywords"]
    parts = [
        pa.array(papers[c].astype(object).where(papers[c].notna(), ""), type=pa.string())
        if c in papers.columns
        else pa.array([""] * len(papers), type=pa.string())
        for c in cols
    ]
    return pc.utf8_lower(pc.binary_join_element_wise(*parts, " | "))


def classify(
    papers: pd.DataFrame,
    *,
    llm_era_start: int = LLM_ERA_START,
) -> pd.DataFrame:
    """Tag each paper with one subfield.

    Parameters
    ----------
    papers
        Columns ``paper_id``, ``title``, ``venue``, ``year`` and optionally ``keywords``,
        ``abstract``.
    llm_era_start
        First year of the LLM era: sets ``is_llm_era`` and when "language model" alone means
        ``llm``.

    Returns
    -------
    pandas.DataFrame
        ``paper_id, subfield, is_llm_era, rule`` (the contract's ``paper_subfields``).

    Examples
    --------
    >>> df = pd.DataFrame({"paper_id": ["a"], "title": ["Aligning Large Language Models"],
    ...                    "venue": ["nips"], "year": [2023]})
    >>> classify(df)[["subfield", "is_llm_era"]].values.tolist()
    [['llm', True]]
    """
    n = len(papers)
    texts = {False: _text(papers, abstract=False), True: _text(papers, abstract=True)}
    venue = papers["venue"].fillna("").astype(str).str.lower().to_numpy(dtype=object)
    year = pd.to_numeric(papers["year"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    subfield = np.full(n, "other_ml", dtype=object)
    rule = np.full(n, "other_ml:default", dtype=object)
    open_ = np.ones(n, dtype=bool)
    for r in RULES:
        if not open_.any():
            break
        idx = np.flatnonzero(open_)
        if r.kind == "venue":
            hit = pd.Series(venue[idx]).isin(r.venues).to_numpy()
            labels = (f"{r.subfield}:venue:" + pd.Series(venue[idx][hit], dtype=object)).to_numpy()
        else:
            # RE2 via Arrow: vectorised, no per-row Python
            sub = texts[r.abstract].take(pa.array(idx))
            found = pc.struct_field(pc.extract_regex(sub, f"(?P<m>{r.pattern})"), [0])
            hit = pc.is_valid(found).to_numpy(zero_copy_only=False).copy()
            if r.min_year is not None:
                hit &= year[idx] >= llm_era_start
            matched = found.filter(pa.array(hit))
            labels = pc.binary_join_element_wise(f"{r.subfield}:text:", matched, "")
            labels = labels.to_numpy(zero_copy_only=False)
        chosen = idx[hit]
        subfield[chosen] = r.subfield
        rule[chosen] = labels
        open_[chosen] = False
    del texts
    # the texts were Arrow buffers: hand their memory back rather than keep it in Arrow's pool
    pa.default_memory_pool().release_unused()
    return pd.DataFrame(
        {
            "paper_id": papers["paper_id"].to_numpy(),
            # already str objects, shared by the rows of one label (astype(str) would make a
            # fixed-width copy and then one new string per row)
            "subfield": subfield,
            "is_llm_era": year >= llm_era_start,
            "rule": rule,
        }
    )


def labelled_sample() -> pd.DataFrame:
    """The hand-labelled sample shipped with the package (venue, year, title, keywords, label)."""
    path = resources.files("talentflow.indicators") / "data" / "subfield_labels.csv"
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, keep_default_na=False)


def evaluate(
    sample: pd.DataFrame | None = None, *, llm_era_start: int = LLM_ERA_START
) -> pd.DataFrame:
    """Precision and recall of :func:`classify` per subfield on a labelled sample.

    Returns one row per subfield (plus ``all``: accuracy) with ``n_predicted``, ``n_labelled``,
    ``correct``, ``precision``, ``recall``.
    """
    sample = labelled_sample() if sample is None else sample
    papers = sample.assign(paper_id=np.arange(len(sample)).astype(str))
    pred = classify(papers, llm_era_start=llm_era_start)["subfield"].to_numpy()
    truth = sample["label"].to_numpy()
    rows = []
    for s in SUBFIELDS:
        n_pred = int((pred == s).sum())
        n_lab = int((truth == s).sum())
        correct = int(((pred == s) & (truth == s)).sum())
        rows.append(
            {
                "subfield": s,
                "n_predicted": n_pred,
                "n_labelled": n_lab,
                "correct": correct,
                "precision": correct / n_pred if n_pred else float("nan"),
                "recall": correct / n_lab if n_lab else float("nan"),
            }
        )
    correct = int((pred == truth).sum())
    rows.append(
        {
            "subfield": "all",
            "n_predicted": len(pred),
            "n_labelled": len(truth),
            "correct": correct,
            "precision": correct / len(pred) if len(pred) else float("nan"),
            "recall": correct / len(truth) if len(truth) else float("nan"),
        }
    )
    return pd.DataFrame(rows)
