"""talentflow.sources stage."""
