"""Helpers shared by the service's tests (and ``bench/``): start a served instance, talk to it."""
