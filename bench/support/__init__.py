"""Shared pieces of the benchmarks (a package, so that ``make bench`` runs only the scripts in bench/)."""
