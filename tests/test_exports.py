"""Realistic exports, generated at test time: header, mapping, separator and counts, no hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.exports_corpus import BUILDERS, write_corpus
from userimport import detect_header, read_table, suggest_mapping, validate
from userimport.headers import header_names

CORE = ("first_name", "last_name", "email", "department")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The generated files, and their expectations by file name."""
    folder = tmp_path_factory.mktemp("exports")
    return folder, {case["file"]: case for case in write_corpus(folder)}


def _case(exports: tuple[Path, dict[str, dict[str, Any]]], index: int) -> tuple[Path, Any]:
    folder, cases = exports
    case = list(cases.values())[index]
    return folder / case["file"], case


IDS = [build.__name__ for build in BUILDERS]


@pytest.mark.parametrize("index", range(len(BUILDERS)), ids=IDS)
def test_export_header_and_mapping(
    index: int, exports: tuple[Path, dict[str, dict[str, Any]]]
) -> None:
    """Each export's header row, core columns, group columns and separator are found alone."""
    path, case = _case(exports, index)
    table = read_table(path)
    row = detect_header(table).row
    cells = None if row is None else list(header_names(table, row))
    while cells and not cells[-1]:
        cells.pop()
    mapping = suggest_mapping(table, row)
    found = {
        p: (mapping.headers[c] if mapping.headers else c)
        for p in CORE
        if (c := mapping.column(p)) is not None
    }
    groups = [mapping.headers[c] if mapping.headers else c for c in mapping.group_columns]
    expected = (case["header"], case["mapping"], case["groups"], case.get("group_separator", ","))
    assert expected == (cells, found, groups, mapping.group_separator), mapping.explain()


@pytest.mark.parametrize("index", range(len(BUILDERS)), ids=IDS)
def test_export_rows(index: int, exports: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    """Each export validates to the rows a demanding admin expects; footers are left out."""
    path, case = _case(exports, index)
    if case["valid_rows"] is None:
        pytest.skip("the caller maps the rest of this file")
    table = read_table(path)
    row = detect_header(table).row
    mapping = suggest_mapping(table, row)
    review = validate(table, row, mapping)
    status = review.rows["status"]
    counts = (int((status == "valid").sum()), int((status == "invalid").sum()))
    assert (case["valid_rows"], case["invalid_rows"]) == counts, review.issues["message"].tolist()
    assert case.get("problem_rows", []) == sorted(review.report.error_rows())
    footer = [r + table.first_row for r in mapping.footer_rows]
    assert case.get("footer_rows", []) == footer


@pytest.mark.parametrize("index", range(len(BUILDERS)), ids=IDS)
def test_every_decision_has_a_reason(
    index: int, exports: tuple[Path, dict[str, dict[str, Any]]]
) -> None:
    """Every mapped column, left-out column and name split says why, for a person."""
    path, _ = _case(exports, index)
    table = read_table(path)
    mapping = suggest_mapping(table, detect_header(table).row)
    reasons = [m.reason for m in (*mapping.matches, *mapping.rejected)]
    if mapping.name_split is not None:
        reasons.append(mapping.name_split.reason)
    assert [] == [r for r in reasons if len(r) < 20]
