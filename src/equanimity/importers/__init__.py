"""Importers: public test suites (XSTest, sycophancy-eval's ``are_you_sure``) → scenario YAML.

Each importer reads its source format, maps every convertible record to a
:class:`~equanimity.scenarios.schema.Scenario`, and reports the records it skipped with their
line number and a reason. :mod:`equanimity.importers.write` writes the scenario files.
"""

from equanimity.importers.write import ImportResult, Skipped, write_scenarios

__all__ = ["ImportResult", "Skipped", "write_scenarios"]
