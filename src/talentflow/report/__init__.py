"""talentflow.report stage."""
