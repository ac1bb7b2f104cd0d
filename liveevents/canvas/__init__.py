"""Canvas live events: the raw record, its validation, and the Canvas delivery format."""
