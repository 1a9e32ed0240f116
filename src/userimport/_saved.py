"""Reading back the JSON that plans and recipes are saved as."""

from __future__ import annotations

import json
from typing import Any

from .errors import UserImportError

__all__ = ["saved_json"]


def saved_json(
    text: str | bytes, *, kind: str, fmt: str, version: int, error: type[UserImportError]
) -> dict[str, Any]:
    """
    The JSON object of a saved plan or recipe, checked for its format and version.

    Raises:
        UserImportError: (of the class given) The text is not JSON, not a saved ``kind``, or
            of another format version.
    """
    try:
        data = json.loads(text)
    except ValueError as e:
        raise error(f"cannot read the saved {kind}: {e}") from e
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"this is not a saved userimport {kind}")
    if data.get("format_version") != version:
        raise error(f"{kind} format version {data.get('format_version')} is not supported")
    return data
