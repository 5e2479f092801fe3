"""Reporters: turn an Analysis into text, JSON, Markdown (with PNG plots) or HTML. They never
compute a verdict; they only show what the checks found.

`formats` maps `--format` to a reporter; `common` says what every format says the same way
(counts, status, names); `text`, `markdown`, `html`, `serialize` (the JSON contract) render;
`files` writes report folders; `plots` and `compare` draw.
"""
