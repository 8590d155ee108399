"""Where the resolver's reference data comes from, whatever folder the sources are in.

Reference data is (1) the **registries** (university domains, ROR organisations, country
codes), which make the gazetteer know "Columbia University" or "Monash University", and (2) the
**labelled paper lists** (``paperlists/`` with the upstream's institution and country labels),
the training evidence of learned aliases, domains and lab sites.

Registries are looked up, in order: an explicit folder; ``<data>/registries``; the fetch cache
(``$TALENTFLOW_CACHE/registries``, filled by ``talentflow fetch``); and a compact copy shipped
inside the package (``data/registries.tar.xz``: names, countries, types and domains only, about
1 MB), unpacked once into the resolve cache. Labelled paper lists come from
``<data>/paperlists`` or the fetch cache. What was found, and what is missing with the command
that gets it, is in :attr:`Reference.notes`; callers print it, record it in ``build_params``
and show it on the methods page.

To refresh the shipped copy from a registries folder::

    uv run python -m talentflow.resolve.reference --pack ../shared/data/registries
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

#: The shipped compact registries, inside ``talentflow.resolve``.
PACKAGED = "data/registries.tar.xz"
#: What ``talentflow fetch`` needs to fetch for the reference data.
FETCH_HINT = "run `talentflow fetch --only registries --only paperlists` (or pass --data DIR)"
#: Columns of the country-codes registry the resolver and the indicators read.
COUNTRY_COLUMNS = (
    "ISO3166-1-Alpha-2",
    "ISO3166-1-Alpha-3",
    "CLDR display name",
    "official_name_en",
    "UNTERM English Short",
    "TLD",
    "Region Name",
    "Sub-region Name",
)


@dataclass(frozen=True)
class Reference:
    """The reference folders found for one build or resolver.

    Attributes
    ----------
    registry_dir
        Folder with ``university-domains/``, ``ror-parser/``, ``country-codes/``; ``None`` when
        no registries were found.
    registry_source
        ``explicit``, ``data``, ``cache``, ``package`` or ``missing``.
    labels_dir
        Folder with labelled ``<venue>/<venue><year>.json`` paper lists, or ``None``.
    labels_source
        ``data``, ``cache`` or ``missing``.
    """

    registry_dir: Path | None
    registry_source: str
    labels_dir: Path | None
    labels_source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """True when both registries and labelled paper lists were found."""
        return self.registry_dir is not None and self.labels_dir is not None

    def as_params(self) -> dict[str, Any]:
        """The fields recorded in ``build_params`` (stage ``resolve``)."""
        return {
            "reference_registries": self.registry_source,
            "reference_labels": self.labels_source,
            "reference_notes": list(self.notes),
        }


def default_cache_dir() -> Path:
    """``$TALENTFLOW_CACHE/resolve`` or ``$XDG_CACHE_HOME/talentflow/resolve`` (~/.cache)."""
    base = os.environ.get("TALENTFLOW_CACHE")
    if base:
        return Path(base) / "resolve"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "talentflow" / "resolve"


def fetch_cache() -> Path:
    """The folder ``talentflow fetch`` fills (``$TALENTFLOW_CACHE`` or ~/.cache/talentflow)."""
    from talentflow.sources.fetch import cache_dir

    return cache_dir()


def _has_registries(path: Path) -> bool:
    return (path / "university-domains").is_dir() or (path / "ror-parser").is_dir()


def _has_labels(path: Path) -> bool:
    return path.is_dir() and next(path.glob("*/*.json"), None) is not None


def find_reference(
    data_dir: str | Path | None,
    registry_dir: str | Path | None = None,
    *,
    use_cache: bool = True,
    use_package: bool = True,
) -> Reference:
    """Locate registries and labelled paper lists for ``data_dir`` (see the module docstring).

    An explicit ``registry_dir`` that holds no registries is reported missing (no fallback:
    the caller asked for that folder).
    """
    data = Path(data_dir) if data_dir is not None else None
    cache = fetch_cache() if use_cache else None
    notes: list[str] = []
    reg: Path | None = None
    reg_source = "missing"
    if registry_dir is not None:
        if _has_registries(Path(registry_dir)):
            reg, reg_source = Path(registry_dir), "explicit"
        else:
            notes.append(f"reference data missing: no registries in {registry_dir}; {FETCH_HINT}")
    else:
        reg, reg_source = _first_of("registries", data, cache, _has_registries)
        if reg is None and use_package:
            reg = packaged_registries()
            if reg is not None:
                reg_source = "package"
                notes.append(
                    "registries: the compact copy shipped with talentflow (2021 ROR, "
                    "university domains, country codes)"
                )
        if reg is None:
            notes.append(f"reference data missing: no registries found; {FETCH_HINT}")
    labels, labels_source = _first_of("paperlists", data, cache, _has_labels)
    if labels is None:
        notes.append(
            "reference data missing: no labelled paper lists, so the gazetteer has no aliases, "
            "domains or lab sites learned from labels (weaker on abbreviations and "
            f"non-English names); {FETCH_HINT}"
        )
    return Reference(reg, reg_source, labels, labels_source, tuple(notes))


def _first_of(
    folder: str, data: Path | None, cache: Path | None, usable: Callable[[Path], bool]
) -> tuple[Path | None, str]:
    """``<data>/<folder>`` or ``<cache>/<folder>``, whichever is usable first, and its source."""
    for source, root in (("data", data), ("cache", cache)):
        if root is not None and usable(root / folder):
            return root / folder, source
    return None, "missing"


def packaged_registries(cache_dir: Path | None = None) -> Path | None:
    """Unpack the shipped registries once (into the resolve cache) and return the folder.

    Falls back to a fresh temporary folder when the cache is not writable; ``None`` when the
    package holds no copy.
    """
    try:
        blob = resources.files("talentflow.resolve").joinpath(PACKAGED).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    digest = hashlib.sha256(blob).hexdigest()[:16]
    base = cache_dir if cache_dir is not None else default_cache_dir()
    target = base / f"registries-{digest}"
    if (target / ".complete").exists():
        return target
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=base, prefix=".registries-"))
    except OSError:
        tmp = Path(tempfile.mkdtemp(prefix="talentflow-registries-"))
        target = tmp
    _unpack(blob, tmp)
    (tmp / ".complete").write_text(digest, encoding="utf-8")
    if tmp != target:
        try:
            os.replace(tmp, target)
        except OSError:  # another process unpacked it first
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _unpack(blob: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:xz") as tar:
        for member in tar.getmembers():
            # Only plain files under relative paths (the archive is ours, but stay strict).
            if not member.isfile() or member.name.startswith(("/", "..")) or ".." in member.name:
                continue
            out = dest / member.name
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            out.write_bytes(src.read())


def pack_registries(registry_dir: Path, output: Path) -> dict[str, int]:
    """Write the compact registries archive from a full registries folder.

    Keeps, per university: name, country code and domains; per ROR organisation: name,
    country code and types; from the country-codes table: :data:`COUNTRY_COLUMNS`.
    Returns the number of records per registry.
    """
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    uni_dir = registry_dir / "university-domains"
    unis = json.loads((uni_dir / "world_universities_and_domains.json").read_text("utf-8"))
    keep = [
        {
            "name": u.get("name"),
            "alpha_two_code": u.get("alpha_two_code"),
            "domains": u.get("domains") or [],
        }
        for u in unis
    ]
    files["university-domains/world_universities_and_domains.json"] = _json(keep)
    counts["university-domains"] = len(keep)
    if (uni_dir / "LICENSE").exists():
        files["university-domains/LICENSE"] = (uni_dir / "LICENSE").read_bytes()
    n_ror = 0
    for path in sorted((registry_dir / "ror-parser").glob("*.json")):
        recs = json.loads(path.read_text("utf-8"))
        slim = [
            {"name": r.get("name"), "country_code": r.get("country_code"), "types": r.get("types")}
            for r in recs
        ]
        files[f"ror-parser/{path.name}"] = _json(slim)
        n_ror += len(slim)
    counts["ror-parser"] = n_ror
    with (registry_dir / "country-codes" / "country-codes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COUNTRY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COUNTRY_COLUMNS})
    files["country-codes/country-codes.csv"] = buf.getvalue().encode("utf-8")
    counts["country-codes"] = len(rows)
    files["README"] = (
        b"Compact copy of talentflow's reference registries (fields the resolver reads only).\n"
        b"university-domains: github.com/Hipo/university-domains-list (MIT, LICENSE kept);\n"
        b"ror-parser: github.com/biocodellc/ror-parser, a 2021 ROR dump (CC0);\n"
        b"country-codes: github.com/datasets/country-codes (PDDL).\n"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(output, mode="w:xz", preset=9) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = 0  # reproducible archive
            tar.addfile(info, io.BytesIO(files[name]))
    return counts


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """``--pack DIR``: rewrite the shipped archive from a registries folder."""
    ap = argparse.ArgumentParser(description="Pack the compact reference registries.")
    ap.add_argument("--pack", type=Path, required=True, help="a full registries/ folder")
    ap.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).parent / PACKAGED,
        help="archive to write (default: the one shipped in the package)",
    )
    args = ap.parse_args(argv)
    counts = pack_registries(args.pack, args.output)
    print(f"{args.output}: {args.output.stat().st_size} bytes, {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
