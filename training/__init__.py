"""Labelled data, fine-tuning, evaluation and export; imports `model/`, never `serve/`."""
