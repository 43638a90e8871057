"""CI gates: a policy of thresholds (and no-regression checks) evaluated on a run's log."""
