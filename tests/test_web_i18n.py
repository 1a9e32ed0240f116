"""The pages' languages: one gettext catalogue, English and bokmål, chosen by Accept-Language."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from starlette.testclient import TestClient

import userimport as ui
from userimport.web import create_app
from userimport.web._i18n import DOMAIN, LANGUAGES, LOCALE_DIR, choose_language

WEB = Path(ui.__file__).with_name("web")
PO = LOCALE_DIR / "nb" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("nb-NO,nb;q=0.9,en;q=0.8", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en-GB,en;q=0.9,nb;q=0.8", "en"),
        ("de-DE,de;q=0.9,nb;q=0.5", "nb"),
        ("sv, da", "en"),
        ("en;q=0.5, nb;q=0.6", "nb"),
        ("nb;q=0", "en"),
        ("nb;q=abc", "en"),
        ("NB-no", "nb"),
        ("*", "en"),
    ],
)
def test_the_language_is_chosen_from_accept_language(header: str | None, expected: str) -> None:
    """The supported language of highest weight wins; no, nn read bokmål; else English."""
    assert expected == choose_language(header)


@given(st.text(max_size=60))
def test_any_accept_language_header_gives_a_supported_language(header: str) -> None:
    """No header, however malformed, raises or names an unsupported language."""
    assert choose_language(header) in LANGUAGES


def test_the_pages_speak_norwegian_to_a_norwegian_browser() -> None:
    """Accept-Language nb: the page is lang=nb, its words and its refusals are bokmål."""
    client = TestClient(create_app(ui.InMemoryUserRepository()))
    nb = {"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.8"}
    page = client.get("/users", headers=nb).text
    assert '<html lang="nb">' in page
    assert "Legg til bruker" in page
    assert "0 brukere" in page
    refused = client.post("/users/add", data={"csrf": "x"}, headers=nb)
    assert 403 == refused.status_code
    assert "Noe trenger din oppmerksomhet" in refused.text
    english = client.get("/users").text
    assert '<html lang="en">' in english
    assert "Add user" in english
    assert "0 users" in english
    expired = client.get("/import/nope/header", headers=nb)
    assert 410 == expired.status_code
    assert "60 minutter" in expired.text


def test_the_compiled_catalogue_matches_its_source() -> None:
    """The committed .mo holds exactly the .po's translations (recompile after editing the .po)."""
    babel = pytest.importorskip("babel.messages.pofile")
    with PO.open("rb") as f:
        catalog = babel.read_po(f)
    expected: dict[object, str] = {}
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            for i, text in enumerate(m.string):
                expected[(m.id[0], i)] = text
        else:
            expected[m.id] = m.string
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    actual = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert expected == actual


def test_every_message_of_the_pages_has_a_norwegian_translation() -> None:
    """Extracted from the templates and app.py, each message is translated, its fields kept."""
    extract = pytest.importorskip("babel.messages.extract")
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        catalog = read_po(f)
    keywords = {**extract.DEFAULT_KEYWORDS, "N_": None, "t": (2,)}
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    methods = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    found = {
        msg[2]
        for msg in extract.extract_from_dir(
            WEB, methods, options_map={"templates/**.html": options}, keywords=keywords
        )
    }
    assert len(found) > 150
    fields = re.compile(r"%\([a-z_]+\)[sd]|%%")
    for message in found:
        ident = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(ident)
        assert entry is not None, f"not in {PO.name}: {ident!r}"
        assert not entry.fuzzy, ident
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            assert text, f"untranslated: {ident!r}"
            assert sorted(set(fields.findall(ident))) == sorted(set(fields.findall(text))), ident


@pytest.mark.parametrize("template", sorted(p.name for p in (WEB / "templates").glob("*.html")))
def test_every_word_of_the_templates_goes_through_the_catalogue(template: str) -> None:
    """Outside Jinja expressions and tags, a template holds no words (only marks like '·')."""
    text = (WEB / "templates" / template).read_text(encoding="utf-8")
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"<style>.*?</style>|<script.*?</script>|<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    words = set(re.findall(r"[^\W\d_]{2,}", text)) - {"userimport", "UTC"}
    assert set() == words


def test_babel_extracts_the_same_from_the_documented_config() -> None:
    """babel.cfg (what docs/web.md tells a translator to run) covers the templates and app.py."""
    config = (ROOT / "babel.cfg").read_text(encoding="utf-8")
    assert "[python: src/userimport/web/**.py]" in config
    assert "[jinja2: src/userimport/web/templates/**.html]" in config
