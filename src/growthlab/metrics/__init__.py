"""Metrics for scored customers: ranking, lift and probability quality."""
