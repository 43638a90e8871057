"""Text classification: the rule-based detectors every layer above reads (docs/design.md).

Pure Python, no inspect-ai. Each detector reads one assistant reply and returns a small frozen
verdict that quotes its evidence verbatim from the reply. The phrase lists and patterns are
data, kept under the top-level ``scorers/`` folder (``lexicons/*.yaml``, ``resources/*.yaml``)
and loaded once per process.

Modules: :mod:`~equanimity.textclass.verdicts` (the verdict models),
:mod:`~equanimity.textclass.lexicons` (loading and compiling the data files),
:mod:`~equanimity.textclass.prefilter` (skipping patterns that cannot match),
:mod:`~equanimity.textclass.text` (normalising, sentences, quotes, spans),
:mod:`~equanimity.textclass.numbers` (numbers in answers), and one module per detector:
:mod:`~equanimity.textclass.refusal`, :mod:`~equanimity.textclass.referral`,
:mod:`~equanimity.textclass.distress`, :mod:`~equanimity.textclass.agreement`.

Conventions shared by all detectors:

- Text is matched case-insensitively after curly quotes are straightened; a literal space in a
  lexicon entry matches any run of whitespace.
- Evidence is always a verbatim substring of the reply: the sentence holding the decisive cue
  (clipped to :data:`~equanimity.textclass.text.EVIDENCE_CHARS`), or for distress the matched
  phrase itself. Each verdict also carries the evidence's ``(start, end)`` offsets in the reply.
- Refusal and distress cues inside double quotation marks are ignored: the reply is quoting
  someone (a character in a story, an example), not speaking for itself.

This package imports only :mod:`equanimity.paths`, :mod:`equanimity.yaml_source` and its
dependencies: never the solvers, scorers, models or report (``tests/test_layers.py``).
"""
