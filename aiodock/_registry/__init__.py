"""Registries: credentials like the docker CLI's, and image references."""
