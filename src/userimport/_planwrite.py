"""
A saved plan's entries made column-wise with Arrow (see :meth:`~userimport.plan.Plan.write_json`).

Each entry is one line of JSON in two forms: as the file shows it (``to_json``'s keys and
spaces) and canonical (sorted keys, no spaces), which the digest covers. Both are made by one
Arrow join per form from a template of parts:

- a text per row (an email, a name, a row number, the groups): its JSON, without the quotes
  for a text, which are in the template;
- a *token*: the template's fixed text together with the values of columns that have few
  distinct values (the action, the reason, ``changed``, a department, ``is_admin``, the
  attributes), rendered in Python once for each combination that occurs and spread to the
  rows by ``take``. Neighbouring tokens are one token while their combinations stay few.

So a line is about 14 pieces instead of one Python string per value, and no Python string is
made per entry: the joined arrays' data buffers are the bytes to write and to hash. Rows whose
``before`` or ``after`` is missing have a template of their own (a plan of creates, or the
undo of one, has one shape).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._plansaved import saved_entries, saved_lines
from .errors import PlanError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["array_bytes", "hashing", "saved_arrays", "slice_json"]

#: Up to how many combinations neighbouring tokens are rendered as one.
_COMBINATIONS = 4096
_text = json.encoder.encode_basestring  # json.dumps(str, ensure_ascii=False), in C


def saved_arrays(frame: pd.DataFrame, sep: str) -> tuple[Any, Any] | None:
    """
    The entries of :func:`~userimport._plansaved.saved_lines` as two Arrow string arrays:
    the spaced lines, each after ``sep``, and the canonical ones, each after a comma.

    A property test holds them to ``saved_lines``, character for character.

    Returns:
        The two arrays, or ``None`` for a frame holding a value of another type than its
        column's (or text that is not valid Unicode): ``saved_lines`` then decides.
    """
    import pyarrow as pa

    try:
        return _arrays(frame, sep)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def array_bytes(array: Any) -> memoryview:
    """The bytes of a string array's values, one after another (nulls have none)."""
    import numpy as np

    _, offsets, data = array.buffers()
    if data is None:
        return memoryview(b"")
    ends = np.frombuffer(offsets, dtype=np.int32)
    return memoryview(data)[ends[array.offset] : ends[array.offset + len(array)]]


def hashing(head: dict[str, Any]) -> tuple[Any, bytes]:
    """
    A SHA-256 fed with the canonical JSON of a saved plan's ``head`` up to its entries, and
    the text that closes it after them: the entries go in between (see ``content_hash``).
    """
    canonical = json.dumps(
        {**head, "entries": []},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    before, _, after = canonical.partition('"entries":[]')
    try:
        return hashlib.sha256(f'{before}"entries":['.encode()), f"]{after}".encode()
    except UnicodeEncodeError as e:
        raise PlanError(
            "cannot sign the plan: it holds text that is not valid Unicode (a lone surrogate)"
        ) from e


def slice_json(part: pd.DataFrame, gap: str, hasher: Any, *, first: bool) -> str | memoryview:
    """One slice of entries for :meth:`Plan._entries_json <userimport.plan.Plan._entries_json>`."""
    skip = 1 if first else 0
    arrays = saved_arrays(part, gap)
    if arrays is not None:  # Arrow made the bytes: write and hash its buffers
        spaced, sealed = (array_bytes(a) for a in arrays)
        if hasher is not None:
            hasher.update(sealed[skip:])
        return spaced[2 * skip :]
    try:
        lines, sealed_lines = saved_lines(part)
    except TypeError:  # a value of another type: json says how it is written
        entries = saved_entries(part)
        lines = [json.dumps(e, ensure_ascii=False) for e in entries]
        canonical = functools.partial(
            json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        sealed_lines = [] if hasher is None else [_sealed(canonical, e) for e in entries]
    if hasher is not None:
        try:
            hasher.update(("," * (1 - skip) + ",".join(sealed_lines)).encode())
        except UnicodeEncodeError as e:
            raise PlanError(
                "cannot sign the plan: it holds text that is not valid Unicode (a lone surrogate)"
            ) from e
    return "".join(gap + line for line in lines)[2 * skip :]


def _sealed(canonical: Any, entry: dict[str, Any]) -> str:
    """An entry's canonical JSON; a value JSON cannot hold cannot be signed."""
    try:
        return str(canonical(entry))
    except ValueError as e:
        raise PlanError(f"cannot sign the plan: {e}") from e


# -- columns ----------------------------------------------------------------------------


class _Factor:
    """A column of few distinct values: each row's code (-1 for a null) and the values."""

    def __init__(self, codes: np.ndarray[Any, Any], values: Sequence[Any]) -> None:
        self.codes = codes
        self.values = values


def _strings(column: pd.Series) -> Any:
    """A column of text (or nulls) as an Arrow string array; other values raise."""
    import pyarrow as pa

    source = column.to_numpy(dtype=object) if column.dtype == object else column.array
    values = pa.array(source, from_pandas=False)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_null(values.type) or pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    if not pa.types.is_string(values.type):
        raise TypeError(f"text of type {values.type}")
    return values


def _inner(values: Any) -> Any:
    """Each text as json.dumps writes it (``ensure_ascii=False``), without its quotes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = np.frombuffer(array_bytes(values), dtype=np.uint8)
    # In UTF-8 these bytes are only ever these characters, which json escapes.
    if not ((raw < 0x20) | (raw == 0x22) | (raw == 0x5C)).any():
        return values
    escape = pc.fill_null(pc.match_substring_regex(values, r'[\x00-\x1f"\\]'), False)
    escaped = [_text(values[int(i)].as_py())[1:-1] for i in np.flatnonzero(escape)]
    return pc.replace_with_mask(values, escape, pa.array(escaped, pa.string()))


def _text_factor(values: Any) -> _Factor:
    """A string array's distinct texts."""
    import pyarrow.compute as pc

    coded = pc.dictionary_encode(values)
    return _Factor(coded.indices.fill_null(-1).to_numpy(), coded.dictionary.to_pylist())


def _object_factor(column: pd.Series) -> _Factor:
    """A column's distinct values (hashable ones; others raise TypeError)."""
    import pandas as pd

    codes, values = pd.factorize(column.to_numpy(dtype=object))
    return _Factor(codes, list(values))


def _flag_factor(column: pd.Series) -> _Factor:
    """A column of booleans (or nulls): 0 false, 1 true; other values raise."""
    import pyarrow as pa

    flags = pa.array(column.to_numpy(dtype=object), from_pandas=False)
    if not (pa.types.is_boolean(flags.type) or pa.types.is_null(flags.type)):
        raise TypeError(f"is_admin of type {flags.type}")
    codes = flags.cast(pa.int64()).fill_null(-1).to_numpy()
    return _Factor(codes, [False, True])


def _mapping_factor(column: pd.Series) -> _Factor:
    """A column of dicts: ``{}`` is code 0, each other distinct dict a code of its own."""
    import numpy as np

    values = column.to_numpy(dtype=object)
    codes = np.where(values == np.array(None), -1, 0)
    found: list[Any] = [{}]
    seen: dict[tuple[tuple[Any, Any], ...], int] = {}
    for i in np.flatnonzero((values != np.array({})) & (codes == 0)):
        value = values[i]
        if not isinstance(value, dict):
            raise TypeError(f"attributes {value!r} are not a dict")
        key = tuple(sorted(value.items()))
        codes[i] = seen.setdefault(key, len(found))
        if codes[i] == len(found):
            found.append(value)
    return _Factor(codes, found)


def _groups(column: pd.Series) -> tuple[Any, Any]:
    """Each row's groups as a JSON list, sorted, spaced and canonical; each distinct once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    factor = _object_factor(column)
    distinct = factor.values
    lists = pa.array(distinct, pa.list_(pa.string()))
    names, parent = lists.flatten(), pc.list_parent_indices(lists)
    if len(names) > 1:
        same = pc.equal(parent[1:], parent[:-1])
        if pc.any(pc.and_(same, pc.less(names[1:], names[:-1]))).as_py():
            lists = pa.array([sorted(d) for d in distinct], pa.list_(pa.string()))
    quoted = pc.binary_join_element_wise('"', _inner(lists.flatten()), '"', "")
    named = pa.ListArray.from_arrays(lists.offsets, quoted)
    pick = pa.array(factor.codes, mask=factor.codes < 0)
    spaced, canonical = (
        pc.binary_join_element_wise("[", pc.binary_join(named, gap), "]", "").take(pick)
        for gap in (", ", ",")
    )
    return spaced, canonical


# -- templates --------------------------------------------------------------------------


class _Token:
    """Fixed text and the rendering of some factors' values, in a template."""

    def __init__(self, names: tuple[str, ...], render: Callable[..., str]) -> None:
        self.names = names
        self.render = render


def _tok(name: str, render: Callable[[Any], str]) -> _Token:
    return _Token((name,), render)


def _join(parts: list[Any], factors: dict[str, _Factor], n: int) -> Any:
    """The template ``parts`` (texts, tokens, per-row arrays) joined row by row."""
    import pyarrow.compute as pc

    pieces: list[Any] = []
    run: list[str | _Token] = []

    def close() -> None:
        if run:
            pieces.append(_realise(list(run), factors, n))
            run.clear()

    for part in parts:
        if isinstance(part, str | _Token):
            names = {m for p in [*run, part] if isinstance(p, _Token) for m in p.names}
            if _size(names, factors) > _COMBINATIONS:
                close()
            run.append(part)
        else:
            close()
            pieces.append(part)
    close()
    return pc.binary_join_element_wise(*pieces, "")


def _size(names: set[str], factors: dict[str, _Factor]) -> int:
    size = 1
    for name in names:
        size *= len(factors[name].values) + 1
    return size


def _realise(run: list[str | _Token], factors: dict[str, _Factor], n: int) -> Any:
    """A run of texts and tokens as one text, or an array of each row's rendering."""
    import numpy as np
    import pyarrow as pa

    names = sorted({m for p in run if isinstance(p, _Token) for m in p.names})
    if not names:
        return "".join(p for p in run if isinstance(p, str))
    key = np.zeros(n, dtype=np.int64)
    stride = 1
    for name in names:
        factor = factors[name]
        key += (factor.codes + 1) * stride
        stride *= len(factor.values) + 1
    present = np.flatnonzero(np.bincount(key, minlength=stride))
    where = np.zeros(stride, dtype=np.int64)
    where[present] = np.arange(len(present))
    texts = []
    for combination in present.tolist():
        values: dict[str, Any] = {}
        for name in names:
            factor = factors[name]
            combination, code = divmod(combination, len(factor.values) + 1)
            values[name] = None if code == 0 else factor.values[code - 1]
        texts.append(
            "".join(
                p if isinstance(p, str) else p.render(*(values[m] for m in p.names)) for p in run
            )
        )
    if len(texts) == 1:  # one combination (a plan of creates, say): one text for all
        return texts[0]
    return pa.array(texts, pa.string()).take(where[key])


def _names(value: Any, gap: str) -> str:
    """``changed``: a list of field names, in its order."""
    return "[" + gap.join(_text(v) for v in value) + "]"


def _department(value: Any) -> str:
    """A department: no text (``None`` or empty) is ``null``."""
    return _text(value) if value else "null"


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _mapping(value: Any, spaced: bool) -> str:
    """Attributes: a JSON object of text, keys sorted."""
    if not isinstance(value, dict):
        raise TypeError(f"attributes {value!r} are not a dict")
    colon, gap = (": ", ", ") if spaced else (":", ",")
    return "{" + gap.join(f"{_text(k)}{colon}{_text(v)}" for k, v in sorted(value.items())) + "}"


def _arrays(frame: pd.DataFrame, sep: str) -> tuple[Any, Any]:
    """:func:`saved_arrays`, raising on a value of another type."""
    import numpy as np
    import pyarrow as pa

    # A side is there when it has a first name (as saved_lines decides).
    before, after = (
        frame[f"{side}_first_name"].to_numpy(dtype=object) != np.array(None)
        for side in ("before", "after")
    )
    shape = 2 * before.astype(np.int8) + after.astype(np.int8)
    kinds = np.unique(shape)
    if len(kinds) == 0:
        return pa.array([], pa.string()), pa.array([], pa.string())
    if len(kinds) == 1:
        return _uniform(frame, sep, before=bool(kinds[0] & 2), after=bool(kinds[0] & 1))
    spaced, canonical, order = [], [], []
    for kind in kinds.tolist():
        rows = np.flatnonzero(shape == kind)
        s, c = _uniform(frame.iloc[rows], sep, before=bool(kind & 2), after=bool(kind & 1))
        spaced.append(s)
        canonical.append(c)
        order.append(rows)
    back = pa.array(np.argsort(np.concatenate(order), kind="stable"))
    return pa.concat_arrays(spaced).take(back), pa.concat_arrays(canonical).take(back)


def _uniform(frame: pd.DataFrame, sep: str, *, before: bool, after: bool) -> tuple[Any, Any]:
    """The entries of rows that all have a ``before`` or not, and an ``after`` or not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(frame)
    email = _inner(_strings(frame["email"]))
    rows = pa.array(frame["row"].to_numpy(dtype=object), from_pandas=True)
    if pa.types.is_floating(rows.type):  # whole numbers in a float column
        rows = rows.cast(pa.int64())
    if not (pa.types.is_integer(rows.type) or pa.types.is_null(rows.type)):
        raise TypeError(f"rows of type {rows.type}")
    row = pc.fill_null(rows.cast(pa.string()), "null")
    factors = {
        "action": _text_factor(_strings(frame["action"])),
        "reason": _text_factor(_strings(frame["reason"])),
        "changed": _object_factor(frame["changed"]),
    }
    users: dict[str, tuple[list[Any], list[Any]]] = {}
    for side, present in (("before", before), ("after", after)):
        if not present:
            users[side] = ["null"], ["null"]
            continue
        first = _inner(_strings(frame[f"{side}_first_name"]))
        last = _inner(_strings(frame[f"{side}_last_name"]))
        groups, groups_c = _groups(frame[f"{side}_groups"])
        factors[f"{side}.department"] = _text_factor(_strings(frame[f"{side}_department"]))
        factors[f"{side}.is_admin"] = _flag_factor(frame[f"{side}_is_admin"])
        factors[f"{side}.attributes"] = _mapping_factor(frame[f"{side}_attributes"])
        dep = _tok(f"{side}.department", _department)
        admin = _tok(f"{side}.is_admin", _flag)
        attrs, attrs_c = (
            _tok(f"{side}.attributes", functools.partial(_mapping, spaced=spaced))
            for spaced in (True, False)
        )
        users[side] = (
            ['{"email": "', email, '", "first_name": "', first, '", "last_name": "', last,
             '", "department": ', dep, ', "groups": ', groups, ', "is_admin": ', admin,
             ', "attributes": ', attrs, "}"],
            ['{"attributes":', attrs_c, ',"department":', dep, ',"email":"', email,
             '","first_name":"', first, '","groups":', groups_c, ',"is_admin":', admin,
             ',"last_name":"', last, '"}'],
        )  # fmt: skip
    action, reason = _tok("action", _text), _tok("reason", _text)
    changed, changed_c = (_tok("changed", functools.partial(_names, gap=g)) for g in (", ", ","))
    spaced = _join(
        [sep + '{"action": ', action, ', "email": "', email, '", "row": ', row,
         ', "reason": ', reason, ', "changed": ', changed, ', "before": ',
         *users["before"][0], ', "after": ', *users["after"][0], "}"],
        factors, n,
    )  # fmt: skip
    canonical = _join(
        [',{"action":', action, ',"after":', *users["after"][1], ',"before":',
         *users["before"][1], ',"changed":', changed_c, ',"email":"', email,
         '","reason":', reason, ',"row":', row, "}"],
        factors, n,
    )  # fmt: skip
    if spaced.null_count or canonical.null_count:
        raise TypeError("a value missing")
    return spaced, canonical
