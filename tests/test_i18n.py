"""Both languages: the Korean catalogue covers every string, and pages and mail switch language."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import login, post_form

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "rrc" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def source_messages() -> set[str]:
    """Every translatable string in the code and templates, as pybabel extracts it."""
    found = set()
    for folder, method_map in (
        ("rrc", [("**.py", "python")]),
        ("templates", [("**.html", "jinja2"), ("**.txt", "jinja2")]),
    ):
        for _filename, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=method_map,
            keywords=KEYWORDS,
            # Babel skips folders starting with "_" by default; templates/_macros holds strings.
            directory_filter=lambda path: not Path(path).name.startswith("."),
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _singular(message) -> str:
    """Plural entries carry (singular, plural) ids; extraction reports the singular."""
    return message.id if isinstance(message.id, str) else message.id[0]


def _translated(message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return all(strings)


def _key(message):
    """Plural entries have a tuple id in a .po and a list id in a .mo."""
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _value(message):
    return message.string if isinstance(message.string, str) else tuple(message.string)


def test_korean_catalogue_translates_every_string():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        _singular(message) for message in catalogue if message.id and _translated(message)
    }
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    missing = sorted(source_messages() - translated)
    assert missing == [], "run pybabel extract/update and translate: " + "; ".join(missing[:10])
    assert fuzzy == []
    errors = [(message.id, problems) for message, problems in catalogue.check()]
    assert errors == []


def test_compiled_catalogue_is_current():
    with CATALOGUE.open("rb") as handle:
        source = {_key(m): _value(m) for m in read_po(handle) if m.id}
    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = {_key(m): _value(m) for m in read_mo(handle) if m.id}
    assert compiled == source, "run: pybabel compile -d rrc/translations"


def test_browser_language_is_honoured_and_switch_sticks(client):
    korean = client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert 'lang="ko"' in korean.get_data(as_text=True)
    assert "비밀번호" in korean.get_data(as_text=True)
    post_form(client, "/login", {"language": "en"}, action="/language")
    english = client.get("/login", headers={"Accept-Language": "ko"})
    assert "Password" in english.get_data(as_text=True)


def test_korean_user_sees_korean_pages_and_times_in_their_zone(client, factory):
    partner = factory.partner(locale="ko", timezone="America/New_York")
    login(client, partner.email)
    html = client.get("/").get_data(as_text=True)
    assert "환영합니다" in html or "로그아웃" in html
    assert "America/New_York" in html
