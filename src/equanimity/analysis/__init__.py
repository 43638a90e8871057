"""Post-run analysis over inspect logs: per-sample frames, headline metrics, summaries."""
