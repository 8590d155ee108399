"""talentflow: an open observatory of AI talent flows."""

__version__ = "0.1.0"
