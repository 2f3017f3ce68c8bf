"""Experiments built on training and evaluation: the architecture x cell comparison."""
