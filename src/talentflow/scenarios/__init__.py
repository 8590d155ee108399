"""talentflow.scenarios stage."""
