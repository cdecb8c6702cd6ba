"""The shared argument rules (aiodock/resources/_checks.py)."""
