"""The service shell around the pure core."""
