"""The exception tree: what each error is a kind of, and what it carries."""
