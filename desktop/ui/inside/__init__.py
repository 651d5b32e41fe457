"""Seeing inside containers: debug shells, filesystem changes, merged logs, the Compose graph."""
