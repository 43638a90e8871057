"""The self-contained HTML report: summary, charts and every transcript with its evidence."""
