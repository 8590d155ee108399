"""talentflow: an open observatory of AI talent flows."""

__version__ = "0.1.0"


def open(db):  # type: ignore[no-untyped-def]
    """Open a built store for notebooks (see :class:`talentflow.notebook.Observatory`)."""
    from talentflow.notebook import open as _open  # lazy: keep `import talentflow` light

    return _open(db)
