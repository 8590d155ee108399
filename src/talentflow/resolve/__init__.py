"""talentflow.resolve stage."""
