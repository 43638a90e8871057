"""Scorers: the inspect scorers over replay records (rule layer in :mod:`equanimity.textclass`, optional judge layer)."""
