"""
Reading back the JSON that plans and recipes are saved as, strictly, and sealing plans.

Every malformed file becomes the error class the caller names, never another exception:
JSON that nests too deep, ``NaN`` and ``Infinity``, numbers that overflow, text that is not
valid Unicode, wrong types. A plan's content is sealed with an HMAC-SHA256 digest of its
canonical JSON (sorted keys, no spaces, UTF-8), keyed by a secret the store keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from .errors import UserImportError
from .model import USER_COLUMNS

__all__ = ["Reader", "content_hash", "saved_json", "seal"]


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def saved_json(
    text: str | bytes, *, kind: str, fmt: str, version: int, error: type[UserImportError]
) -> dict[str, Any]:
    """
    The JSON object of a saved plan or recipe, checked for its format and version.

    ``NaN``, ``Infinity`` and numbers too large for a float are refused, as is nesting
    deeper than Python can follow.

    Raises:
        UserImportError: (of the class given) The text is not JSON, not a saved ``kind``, or
            of another format version.
    """
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as e:
        # ValueError covers bad UTF-8 and integers of more digits than int() takes.
        reason = "it nests too deep" if isinstance(e, RecursionError) else str(e)
        raise error(f"cannot read the saved {kind}: {reason}") from e
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"this is not a saved userimport {kind}")
    if type(data.get("format_version")) is not int or data["format_version"] != version:
        raise error(f"{kind} format version {data.get('format_version')!r} is not supported")
    return data


def content_hash(data: Mapping[str, Any]) -> bytes:
    """
    The SHA-256 of ``data`` as canonical JSON: sorted keys, no spaces, UTF-8.

    The same content always gives the same hash, however the file was indented.

    Raises:
        ValueError: Text that is not valid Unicode (a lone surrogate), or nesting too deep.
    """
    try:
        text = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except RecursionError as e:
        raise ValueError("it nests too deep") from e
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("it holds text that is not valid Unicode (a lone surrogate)") from e
    return hashlib.sha256(raw).digest()


def seal(secret: bytes, content: bytes) -> str:
    """The digest of a plan: HMAC-SHA256 of its :func:`content_hash`, keyed by ``secret``."""
    return hmac.new(secret, content, hashlib.sha256).hexdigest()


#: The keys of a saved user, in the order ``User.to_dict`` writes them.
USER_KEYS: frozenset[str] = frozenset(USER_COLUMNS)


class Reader:
    """
    Strict checks of values read from JSON; each failure raises ``error`` naming ``where``.

    JSON gives exactly ``str``, ``int``, ``float``, ``bool``, ``None``, ``list`` and ``dict``,
    so types are checked with ``type(x) is``: ``true`` is never a number, ``"no"`` never a
    boolean.
    """

    def __init__(self, error: type[UserImportError], kind: str) -> None:
        self.error = error
        self.kind = kind

    def fail(self, where: str, message: str) -> NoReturn:
        """Raise the error for the value at ``where``."""
        raise self.error(f"cannot read the saved {self.kind}: {where} {message}")

    def object(
        self, value: Any, where: str, keys: Collection[str], optional: Collection[str] = ()
    ) -> dict[str, Any]:
        """A JSON object with exactly ``keys`` (and any of ``optional``)."""
        if type(value) is not dict:
            self.fail(where, f"must be an object, not {_kind(value)}")
        missing = [k for k in keys if k not in value]
        if missing:
            self.fail(where, f"lacks {', '.join(sorted(missing))}")
        extra = set(value) - set(keys) - set(optional)
        if extra:
            self.fail(where, f"has unknown key(s) {', '.join(sorted(map(repr, extra)))}")
        return value

    def text(self, value: Any, where: str) -> str:
        """A string."""
        if type(value) is not str:
            self.fail(where, f"must be text, not {_kind(value)}")
        return value

    def maybe_text(self, value: Any, where: str) -> str | None:
        """A string or ``None``."""
        if value is not None and type(value) is not str:
            self.fail(where, f"must be text or null, not {_kind(value)}")
        return value

    def flag(self, value: Any, where: str) -> bool:
        """A JSON boolean."""
        if type(value) is not bool:
            self.fail(where, f"must be true or false, not {_kind(value)}")
        return value

    def whole(self, value: Any, where: str) -> int:
        """A whole number from 0 to 2**63 - 1."""
        if type(value) is not int or not 0 <= value < 2**63:
            self.fail(where, f"must be a whole number >= 0, not {_kind(value)}")
        return value

    def maybe_whole(self, value: Any, where: str) -> int | None:
        """A whole number from 0 to 2**63 - 1, or ``None``."""
        return None if value is None else self.whole(value, where)

    def texts(self, value: Any, where: str) -> list[str]:
        """A list of strings."""
        if type(value) is not list or any(type(v) is not str for v in value):
            self.fail(where, f"must be a list of text, not {_kind(value)}")
        return value

    def user(self, value: Any, where: str, email: str) -> tuple[Any, ...]:
        """
        A saved user as the plan columns of one side, in normal form.

        Returns:
            ``first_name``, ``last_name``, ``department`` (``None`` for none), ``groups``
            (a sorted tuple), ``is_admin``, ``attributes`` (a dict).
        """
        u = self.object(value, where, USER_KEYS)
        if u["email"] != email:
            self.fail(
                f"{where}.email",
                f"{_kind(u['email'])} is not the entry's email {email!r}: an entry never changes "
                "an email",
            )
        first = self.text(u["first_name"], f"{where}.first_name")
        last = self.text(u["last_name"], f"{where}.last_name")
        department = self.maybe_text(u["department"], f"{where}.department")
        groups = self.texts(u["groups"], f"{where}.groups")
        is_admin = self.flag(u["is_admin"], f"{where}.is_admin")
        attributes = u["attributes"]
        if type(attributes) is not dict or any(type(v) is not str for v in attributes.values()):
            self.fail(f"{where}.attributes", f"must map names to text, not {_kind(attributes)}")
        return (
            first.strip(),
            last.strip(),
            (department or "").strip() or None,
            tuple(sorted({g.strip() for g in groups} - {""})),
            is_admin,
            attributes,
        )


def _kind(value: Any) -> str:
    """A short account of a JSON value, for a message."""
    if isinstance(value, str):
        return repr(value[:60] + ("…" if len(value) > 60 else ""))
    if value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
        return text if len(text) <= 40 else f"a number of {len(text)} digits"
    return {"list": "a list", "dict": "an object"}.get(type(value).__name__, type(value).__name__)
