"""talentflow.web stage."""
