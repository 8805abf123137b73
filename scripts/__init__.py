"""Builders of the bundled data sets (run once; outputs committed); each runs as `python -m scripts.<name>`."""
