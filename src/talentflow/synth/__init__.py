"""Synthetic corpora in the OpenAlex snapshot layout, for tests and scale benchmarks."""

from __future__ import annotations

from talentflow.synth.careers import SynthParams
from talentflow.synth.generate import SynthReport, generate

__all__ = ["SynthParams", "SynthReport", "generate"]
