"""Helpers shared by the service's tests: start a served instance (built on ``bench/support``), talk to it."""
