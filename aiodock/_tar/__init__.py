"""Tar archives and build contexts: streaming tar, .dockerignore, safe extraction."""
