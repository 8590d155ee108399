"""talentflow.identity stage."""
