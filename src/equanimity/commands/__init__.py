"""Subcommands of the equanimity CLI, one module each."""
