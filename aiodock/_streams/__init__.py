"""Streams and their sans-IO decoders: frames, JSON streams, operations with progress."""
