"""Reporters: turn an Analysis into text, JSON, Markdown (with PNG plots) or HTML. They never
compute a verdict; they only show what the checks found."""
