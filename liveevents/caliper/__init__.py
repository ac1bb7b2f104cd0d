"""IMS Caliper 1.1: the Canvas→Caliper mapping and the validator (pure, no I/O)."""
