"""Data: the lazy Polars frames of every scope, and the ordered band stream."""
