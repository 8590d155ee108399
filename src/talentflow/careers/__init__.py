"""talentflow.careers stage."""
