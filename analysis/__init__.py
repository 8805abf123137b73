"""Corpora: reading documents, `stance analyze` over whole corpora, and `stance summarize` with charts."""
