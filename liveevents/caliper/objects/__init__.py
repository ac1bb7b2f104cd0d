"""Per-family builders of the Caliper ``object`` (and ``generated``) of each mapped event.

Each module covers one family of Canvas events and reads like the per-event tables of
``canvas-to-caliper.md`` §5; the registry (``liveevents.caliper.registry``) says which builder
serves which event.
"""
