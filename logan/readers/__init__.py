"""Readers: one module per producer, each turning files into a ReadResult (tidy rows + skips)."""
