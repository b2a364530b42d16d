"""Evaluation: question files, metrics, the run over a service, reports."""
