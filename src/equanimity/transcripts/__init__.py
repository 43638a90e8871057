"""Scoring conversations that already happened (JSONL in OpenAI or Anthropic chat format).

:mod:`~equanimity.transcripts.parse` reads the lines, :mod:`~equanimity.transcripts.convert`
builds a scenario and replay record per conversation, :mod:`~equanimity.transcripts.task`
scores them with the default scorers in an inspect eval that never calls a model,
:mod:`~equanimity.transcripts.redact` and :mod:`~equanimity.transcripts.redacted_report` make
the privacy-preserving output of ``--redact``.
"""
