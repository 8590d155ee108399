"""Compiling, calibrating and caching the gazetteer (the layer above the resolver).

Compiling reads ~100 MB of registry JSON and the labelled paper lists, so the result is
pickled into a cache file keyed by its inputs and this code; loading that takes well under a
second. Calibration resolves the calibration split with a gazetteer learned from ``train``
only, which is why this module sits above :mod:`talentflow.resolve.resolver`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from talentflow.resolve.builder import GazetteerBuilder
from talentflow.resolve.calibration import calibrate_gazetteer
from talentflow.resolve.gazetteer import (
    FORMAT_VERSION,
    Gazetteer,
)
from talentflow.resolve.labels import read_labelled
from talentflow.resolve.reference import Reference, default_cache_dir, find_reference
from talentflow.resolve.resolver import Resolver


def _fingerprint(paths: list[Path]) -> list[tuple[str, int, int]]:
    out = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_size, int(st.st_mtime)))
    return out


#: Every labelled split; the production gazetteer learns from all of them.
ALL_SPLITS = ("train", "calibration", "test", "fresh", "fresh2")


def compile_gazetteer(
    data_dir: Path | None,
    *,
    registry_dir: Path | None = None,
    labels_dir: Path | None = None,
    learn_splits: tuple[str, ...] = ALL_SPLITS,
    calibrate: bool = True,
) -> Gazetteer:
    """Build the gazetteer from registries and labelled paper lists.

    ``registry_dir`` defaults to ``data_dir / "registries"`` and ``labels_dir`` to
    ``data_dir / "paperlists"``. ``learn_splits`` says which labelled splits are training
    evidence (the evaluation passes ``("train", "calibration")`` so held-out venue-years are
    never learned from). Confidence is calibrated on the calibration split with a gazetteer
    learned from ``train`` only.
    """
    registry_dir = registry_dir or (data_dir / "registries" if data_dir else None)
    labels_dir = labels_dir or (data_dir / "paperlists" if data_dir else None)
    slots = read_labelled(labels_dir) if labels_dir is not None else []
    learn = [s for s in slots if s.split in learn_splits]
    base = GazetteerBuilder(registry_dir)
    base.add_labs()
    base.add_registries()
    snapshot = pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL)  # cheaper than re-reading
    builder = pickle.loads(snapshot)
    if learn:
        builder.add_labels(learn)
    builder.add_aliases()
    builder.add_sites()
    gaz = builder.finish()
    if calibrate and slots:
        builder = pickle.loads(snapshot)
        builder.add_labels([s for s in slots if s.split == "train"])
        builder.add_aliases()
        builder.add_sites()
        train_only = builder.finish()
        gaz.calibration = calibrate_gazetteer(
            train_only, [s for s in slots if s.split == "calibration"]
        )
    gaz.meta = {
        "format": FORMAT_VERSION,
        "learn_splits": list(learn_splits),
        "n_labelled_slots": len(learn),
        "n_entities": len(gaz.entities),
        "n_keys": len(gaz.keys),
        "registry_dir": str(registry_dir) if registry_dir else None,
    }
    return gaz


def load_gazetteer(
    data_dir: str | Path | None = None,
    *,
    registry_dir: str | Path | None = None,
    learn_splits: tuple[str, ...] = ALL_SPLITS,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    reference: Reference | None = None,
) -> Gazetteer:
    """Load the gazetteer for ``data_dir``, compiling it once into a cache file.

    Reference data (registries, labelled paper lists) is found by
    :func:`~talentflow.resolve.reference.find_reference`: in ``data_dir``, else in the cache
    ``talentflow fetch`` fills, else (registries only) in the copy shipped with the package.
    What was used, and what is missing, is in ``gaz.meta["reference"]``.

    Parameters
    ----------
    data_dir
        The build's data folder (may hold ``registries/`` and ``paperlists/``), or ``None``.
    registry_dir
        Registries folder when it is not ``data_dir / "registries"`` (no fallback then).
    learn_splits
        Labelled splits used as training evidence (see :mod:`talentflow.resolve.labels`).
    cache_dir
        Where compiled gazetteers are kept (default :func:`default_cache_dir`).
    reference
        Reference folders already located (default: located here).
    """
    data = Path(data_dir) if data_dir is not None else None
    ref = reference if reference is not None else find_reference(data, registry_dir)
    reg = ref.registry_dir
    labels_dir = ref.labels_dir
    inputs: list[Path] = []
    for root, pattern in ((reg, "**/*"), (labels_dir, "*/*.json")):
        if root is not None and root.exists():
            inputs.extend(sorted(p for p in root.glob(pattern) if p.is_file()))
    labs = b"".join(
        resources.files("talentflow.resolve").joinpath(f"data/{f}").read_bytes()
        for f in ("labs.csv", "aliases.csv", "sites.csv", "places.json")
    )
    code = b"".join(
        resources.files("talentflow.resolve").joinpath(m).read_bytes()
        for m in (
            "gazetteer.py",
            "builder.py",
            "compile.py",
            "places.py",
            "normalize.py",
            "sectors.py",
            "labels.py",
            "resolver.py",
            "calibration.py",
        )
    )
    digest = hashlib.sha256(
        json.dumps(
            [FORMAT_VERSION, _fingerprint(inputs), list(learn_splits), str(reg), str(labels_dir)]
        ).encode()
        + hashlib.sha256(labs + code).digest()
    ).hexdigest()[:24]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"gazetteer-{digest}.pickle"
    if reg is None:
        use_cache = False  # without registries compiling takes well under a second
    cached = _read_cache(path) if use_cache else None
    if cached is None and use_cache:
        # One process compiles; concurrent builds wait for it instead of repeating it.
        with _compile_lock(cache, digest):
            cached = _read_cache(path)
            if cached is None:
                cached = compile_gazetteer(
                    None, registry_dir=reg, labels_dir=labels_dir, learn_splits=learn_splits
                )
                _write_cache(path, cached)
    gaz = cached or compile_gazetteer(
        None, registry_dir=reg, labels_dir=labels_dir, learn_splits=learn_splits
    )
    gaz.meta["digest"] = digest
    gaz.meta["reference"] = ref.as_params()
    return gaz


def _read_cache(path: Path) -> Gazetteer | None:
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            gaz = pickle.load(fh)
    except Exception:  # a corrupt cache file is rebuilt
        return None
    return gaz if isinstance(gaz, Gazetteer) else None


def _write_cache(path: Path, gaz: Gazetteer) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(gaz, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:  # a read-only cache only costs speed
        pass


@contextmanager
def _compile_lock(cache: Path, digest: str) -> Iterator[None]:
    """An exclusive advisory file lock (POSIX); a no-op where locking is unavailable."""
    try:
        import fcntl

        cache.mkdir(parents=True, exist_ok=True)
        fh = (cache / f"gazetteer-{digest}.lock").open("a")
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def load_resolver(data_dir: str | Path | None = None, **options: Any) -> Resolver:
    """A :class:`~talentflow.resolve.resolver.Resolver` over :func:`load_gazetteer`'s gazetteer.

    >>> load_resolver().resolve("Tencent AI Lab, Seattle").country
    'US'
    """
    return Resolver(load_gazetteer(data_dir, **options))


__all__ = ["ALL_SPLITS", "compile_gazetteer", "load_gazetteer", "load_resolver"]
