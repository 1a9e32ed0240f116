"""The failing inputs of issue 13 (tests/data/cases) and inputs of the same kinds of our own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from userimport import InMemoryUserRepository, import_file, read_table
from userimport.cli import EXIT_OK, cli

CASES = Path(__file__).resolve().parent / "data" / "cases"


def test_cp1252_with_a_curly_apostrophe_is_read_as_cp1252() -> None:
    """One 0x92 beside ø, Å and æ: Windows-1252 on the evidence of every letter, not cp850."""
    table = read_table(CASES / "staff_cp1252.csv")
    assert "cp1252" == table.encoding
    names = table.rows.iloc[1:, :2].values.tolist()
    assert [["Sean", "O’Neil"], ["Bjørn", "Åsheim"], ["Kjærsti", "Løvli"]] == names
    assert not any(n.startswith("encoding uncertain") for n in table.notes)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        # Excel for Mac's "CSV (Macintosh)": Mac Roman, CR-only line ends
        ("First name,Last name,Email\rHåkon,Bjørnstad,hakon@firma.no\r", "mac-roman"),
        (
            "Fornavn;Etternavn;E-post\nÅse;Müller;ase@firma.no\nHåkon;Bjørnstad;h@firma.no\n",
            "mac-roman",
        ),
        # a DOS export: code page 850
        (
            "Fornavn;Etternavn;E-post\r\nJørgen;Müller;j@firma.no\r\nÅse;Bækken;a@firma.no\r\n",
            "cp850",
        ),
        ("Name,Email\r\nSøren Kähler,s@firma.dk\r\n", "cp850"),
        # Latin-9: the euro sign and Š, Ž, Œ where Windows-1252 has ¤, ¦, ´, ¼
        (
            "Prénom,Nom,Email,Note\nŽaneta,Šimková,z@firma.fi,30 €\nŒdipe,Cœur,c@firma.fr,\n",
            "iso8859-15",
        ),
        # Windows-1252 with curly quotes and the euro sign where Latin-9 has control characters
        ("Navn,Notat\nO’Neil,“VIP” 30 €\nRenée Ødegård,\n", "cp1252"),
        # Central European Windows
        ("Imię,Nazwisko,Email\nŁukasz,Wójcik,l@firma.pl\nŻaneta,Świątek,z@firma.pl\n", "cp1250"),
    ],
)
def test_legacy_encodings_are_told_apart_by_evidence(text: str, encoding: str) -> None:
    """Each legacy encoding is chosen on the letters it makes of the whole sample."""
    table = read_table(text.encode(encoding))
    expected = [
        line.split(table.delimiter)
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if line
    ]
    assert (encoding, expected) == (table.encoding, table.rows.values.tolist())


def test_a_close_runner_up_is_named_in_the_notes() -> None:
    """Bytes that two encodings read as likely letters: the best is used, the other named."""
    table = read_table(b"Navn\nSp\x8arre\n")  # Mac Roman 'Spärre', cp850 'Spèrre'
    assert "mac-roman" == table.encoding
    doubt = [n for n in table.notes if n.startswith("encoding uncertain")]
    assert 1 == len(doubt)
    assert "encoding='cp850'" in doubt[0]


def test_cr_only_line_ends_read_like_any_others(tmp_path: Path) -> None:
    """Old Mac CR-only line ends with ';': 3 rows of 4 cells, 2 users, and plan exits 0."""
    table = read_table(CASES / "staff_cr.csv")
    assert (";", (3, 4)) == (table.delimiter, table.rows.shape)
    repo = InMemoryUserRepository()
    plan = import_file(CASES / "staff_cr.csv", repo)
    assert 2 == plan.summary()["create"]
    db = f"sqlite:///{tmp_path / 'users.db'}"
    result = CliRunner().invoke(
        cli, ["--db", db, "plan", str(CASES / "staff_cr.csv"), "--out", str(tmp_path / "p.json")]
    )
    assert EXIT_OK == result.exit_code, result.output


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_any_line_end_with_any_delimiter(end: str, sep: str) -> None:
    """The delimiter is found and the cells are the same whatever the line ends."""
    rows = [
        ["Email", "First name", "Last name"],
        ["a@firma.no", "Ål", "x y"],
        ["b@firma.no", "", "z"],
    ]
    data = end.join(sep.join(r) for r in rows).encode("utf-8")
    table = read_table(data)
    assert (sep, rows) == (table.delimiter, table.rows.values.tolist())
