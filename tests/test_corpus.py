"""The shared corpus end to end: with no hints, the rows a demanding user expects are valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import corpus_dir
from userimport import detect_header, read_table, suggest_mapping, validate


def cases() -> list[dict[str, Any]]:
    path = corpus_dir() / "expected.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def test_corpus_is_there() -> None:
    """The corpus exists, so the parametrised tests below cannot silently vanish."""
    assert len(cases()) >= 10


@pytest.mark.parametrize(
    "case", [c for c in cases() if c.get("valid_rows") is not None], ids=lambda c: c["file"]
)
def test_valid_and_invalid_rows(case: dict[str, Any], corpus: Path) -> None:
    """Reading, header detection, mapping and validation with no hints give the expected counts."""
    table = read_table(corpus / case["file"])
    header = detect_header(table).row
    mapping = suggest_mapping(table, header)
    if "group_separator" in case:
        mapping = mapping.with_group_separator(case["group_separator"])
    review = validate(table, header, mapping)
    status = review.rows["status"]
    assert case["valid_rows"] == int((status == "valid").sum()), review.issues["message"].tolist()
    assert case["invalid_rows"] == int((status == "invalid").sum())
    if "problem_rows" in case:
        assert case["problem_rows"] == sorted(review.report.error_rows())
