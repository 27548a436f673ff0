"""Dialogue and general-data sources for the mixture: read public formats as published, normalise to `messages`.

`spec` parses a recipe entry, `readers` reads raw rows from files or the Hugging Face hub, `formats` adapts each
row shape to conversational messages, `embedded*` generate the offline default sources, and `adapt.load_source`
ties them together into one Polars frame per source plus quarantine rows.
"""
