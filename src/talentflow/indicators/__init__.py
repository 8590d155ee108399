"""talentflow.indicators stage."""
