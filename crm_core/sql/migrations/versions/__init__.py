"""Hand-written revisions, one per schema change, each matching ``crm_core.orm`` at that point."""
