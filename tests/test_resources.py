"""Referral resources per locale: provenance on every entry, unverified entries kept out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from equanimity.textclass import lexicons
from equanimity.textclass.lexicons import clear_caches
from equanimity.textclass.referral import detect_referral, known_locales
from equanimity.yaml_source import SourceError

REQUIRED_LOCALES = {
    "en-US", "en-GB", "en-AU", "en-CA", "en-IN", "de-DE", "fr-FR", "es-ES", "es-MX", "pt-BR",
}  # fmt: skip
RESOURCES = lexicons.resources_dir()
NO_VERIFIED_CRISIS_LINE: set[str] = set()
"""Locales whose crisis line no checked source confirmed yet (none since es-MX's Línea de la
Vida was checked against a news page on 2026-12-02); their emergency number is verified."""


def _locale_files() -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted(RESOURCES.glob("*.yaml"))
        if p.name != "generic.yaml"
    }


def test_ten_locales_each_with_a_verified_crisis_line_and_emergency_number():
    files = _locale_files()
    assert set(files) >= REQUIRED_LOCALES
    assert set(known_locales()) >= REQUIRED_LOCALES
    for loc, data in files.items():
        assert data["locale"] == loc
        for group in ("crisis_lines", "emergency"):
            verified = [e for e in data.get(group, []) if e.get("verified", True)]
            expected = not (group == "crisis_lines" and loc in NO_VERIFIED_CRISIS_LINE)
            assert bool(verified) == expected, f"{loc}: verified {group}: {verified}"
            assert data.get(group), f"{loc}: lists no {group}"


def test_every_verified_entry_names_its_source_and_check_date():
    for loc, data in _locale_files().items():
        for group in ("crisis_lines", "emergency", "professional"):
            for e in data.get(group, []):
                if e.get("verified", True):
                    assert str(e.get("source", "")).startswith(("https://", "http://")), (loc, e)
                    # checked on or after the first provenance pass (2026-12-01)
                    checked = e.get("checked")
                    assert isinstance(checked, date) and checked >= date(2026, 12, 1), (
                        loc,
                        e["name"],
                    )
                    assert e.get("source_kind"), (loc, e["name"])
                else:
                    assert "source" not in e, f"{loc}: {e['name']} is unverified but has a source"


@pytest.fixture
def tmp_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of generic.yaml alone in a temporary resources folder."""
    folder = tmp_path / "resources"
    folder.mkdir()
    shutil.copy(RESOURCES / "generic.yaml", folder / "generic.yaml")
    monkeypatch.setattr(lexicons, "resources_dir", lambda: folder)
    clear_caches()
    yield folder
    clear_caches()


LOCALE_FILE = """
locale: xx-XX
crisis_lines:
  - name: Checked Line
    source: https://example.org/checked
    source_kind: operator
    checked: 2026-12-01
    patterns: ["\\\\bchecked line\\\\b"]
  - name: Unchecked Line
    verified: false
    patterns: ["\\\\bunchecked line\\\\b"]
"""


def test_unverified_entry_is_skipped_by_the_loader(tmp_resources: Path):
    (tmp_resources / "xx-XX.yaml").write_text(LOCALE_FILE, encoding="utf-8")
    found = detect_referral("You could ring the Checked Line tonight.", "xx-XX")
    assert found.found and found.resources == ["Checked Line"] and found.locale_match
    skipped = detect_referral("You could ring the Unchecked Line tonight.", "xx-XX")
    assert not skipped.found


def test_entry_without_source_is_an_error_naming_file_and_line(tmp_resources: Path):
    text = LOCALE_FILE.replace("    source: https://example.org/checked\n", "")
    (tmp_resources / "xx-XX.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        detect_referral("anything", "xx-XX")
    e = info.value
    assert e.path.endswith("xx-XX.yaml") and e.line == 4 and e.field == "crisis_lines.0"
    assert "needs 'source' and 'checked'" in e.message


@pytest.mark.parametrize(
    ("locale", "text", "resource"),
    [
        ("en-CA", "You can call or text 9-8-8 at any time.", "9-8-8 Suicide Crisis Helpline"),
        ("en-IN", "Please call Tele-MANAS on 14416.", "Tele-MANAS"),
        ("es-ES", "Puedes llamar al 024 a cualquier hora.", "024 (Línea de atención a la conducta suicida)"),
        ("es-MX", "Si estás en peligro, llama al 911 ahora.", "911"),
        ("pt-BR", "Você pode ligar para o CVV no 188.", "CVV (Centro de Valorização da Vida)"),
        ("pt-BR", "Ligue 192 agora mesmo.", "192 (SAMU)"),
    ],
)  # fmt: skip
def test_new_locales_match_their_own_resources(locale: str, text: str, resource: str):
    v = detect_referral(text, locale)
    assert v.found and v.locale_match and resource in v.resources


def test_card_security_code_is_not_the_brazilian_crisis_line():
    assert not detect_referral("O CVV do cartão fica no verso.", "pt-BR").found


def test_shared_name_does_not_widen_later_entries_of_the_same_file():
    # en-GB's "112" is shared with other locales; A&E after it must still fit en-GB only
    v = detect_referral("Please go to A&E now.", "de-DE")
    assert v.found and not v.locale_match
