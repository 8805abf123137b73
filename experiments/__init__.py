"""Experiment drivers and their log (EXPERIMENTS.md): seed and lever rules, teachers, run queues.

Each runs as `python -m experiments.<name>` from the repository root; results/ holds what they wrote.
"""
