"""
The user fields, declared once: what each holds, how it is checked, and what people call it.

A :class:`UserSchema` is a tuple of :class:`Field` declarations. The built-in fields
(``first_name``, ``last_name``, ``email``, ``department``, ``groups``, ``is_admin``) are declared
here the same way and make up :data:`DEFAULT_SCHEMA`; an app adds its own with
:meth:`UserSchema.with_fields`. Every stage derives from the schema it is given: the mapping's
header names, validation's checks (one pandera schema), review edits, the plan's columns, the
export and template headers and the SQL store's columns.

A declared field that is not built in travels as the custom property ``attributes.<key>``
(:attr:`Field.target`) and is kept in :attr:`userimport.User.attributes` under its key, as
normalised text (a date as ``2025-12-31``, a phone number in E.164, a boolean as ``true`` or
``false``). Undeclared ``attributes.<name>`` properties stay free text.

This module imports nothing heavy; ``phonenumbers`` is loaded only to read a phone column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUILTIN_KEYS",
    "DEFAULT_SCHEMA",
    "KINDS",
    "Field",
    "Kind",
    "UserSchema",
    "load_schema",
    "schema_from_environment",
    "schema_of",
]

#: What a field holds; it decides how a cell is read (see ``docs/fields.md``).
Kind = Literal["text", "email", "phone", "date", "boolean", "integer", "choice", "identifier"]
KINDS: tuple[Kind, ...] = (
    "text",
    "email",
    "phone",
    "date",
    "boolean",
    "integer",
    "choice",
    "identifier",
)

#: The fields :class:`userimport.User` holds as attributes of its own, in their order.
BUILTIN_KEYS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "department",
    "groups",
    "is_admin",
)

#: How two values of a field compare: as they are, or without regard to case.
Compare = Literal["exact", "casefold"]

_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Keys a field may not take: the store's own columns and the review's bookkeeping.
_RESERVED = frozenset({"key", "attributes", "status", "row", "version", "id"})


def _headers(
    value: Mapping[str, str | Iterable[str]] | Iterable[str],
) -> Mapping[str, tuple[str, ...]]:
    """Header names per language; names may be given as ``"a|b"`` or a sequence of names."""

    def names(given: str | Iterable[str]) -> tuple[str, ...]:
        items = given.split("|") if isinstance(given, str) else given
        return tuple(n.strip() for n in items if n.strip())

    if isinstance(value, Mapping):
        return MappingProxyType({str(k): names(v) for k, v in value.items()})
    return MappingProxyType({"": names(value)})


def _check_key(instance: Field, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _KEY.fullmatch(value) or value in _RESERVED:
        raise ValueError(
            f"a field key must be lower-case letters, digits and _ (starting with a letter, at "
            f"most 63 characters) and not one of {', '.join(sorted(_RESERVED))}, not {value!r}"
        )


def _field(values: dict[str, Any]) -> Field:
    """A field from its arguments (how a pickled field is made again)."""
    return Field(**values)


@attrs.frozen(kw_only=True)
class Field:
    """
    One user field: its name, what it holds, its rules and the header names people use for it.

    Args:
        key: The field's name in code (``phone``, ``employee_id``): lower-case letters, digits
            and ``_``. A field that is not built in is the property ``attributes.<key>``.
        label: What people see (defaults to the key in words: ``Employee id``).
        kind: What the field holds, one of :data:`KINDS`: ``text``; ``email``; ``phone``
            (normalised to E.164 with ``phonenumbers``); ``date`` (``2025-12-31``,
            ``31.12.2025`` or an Excel date cell, kept as ``2025-12-31``); ``boolean``
            (``yes/no/ja/nei/true/false/1/0/x``, kept as ``true``/``false``); ``integer``;
            ``choice`` (one of ``choices``); ``identifier`` (text kept exactly, leading zeros
            and all).
        required: Every row must have a value (and a file must have a column for it).
        unique: No two rows of a file hold the same value (empty cells aside).
        max_length: The longest text accepted (``None``: no limit).
        choices: The allowed values of a ``choice`` field; a cell matches one without regard to
            case and is kept as declared.
        pattern: A regular expression (Python syntax) the whole normalised value must match.
        check: An extra rule, column-wise: given the non-empty normalised values as a Series of
            text, return a boolean Series on the same index, ``True`` where a value is fine.
        check_message: What a failed ``check`` says after the field name.
        headers: Header names people use for the field, per language (``{"en": ["phone",
            "mobile"], "no": "telefon|mobil"}``; a plain list counts for every language). The
            key, the label and the export header are always recognised too.
        export_header: The header the export and the template write (defaults to the label).
        importable: Whether an import may change the field: ``False`` keeps what the store
            holds (and leaves it empty for a new user); ``is_admin`` is guarded this way
            unless :attr:`ImportSettings.admin_rights <userimport.ImportSettings>` allows it.
        compare: How two values compare when the plan decides whether a user changed:
            ``exact``, or ``casefold`` (a change of case alone is no change).
        region: For a ``phone`` field, the country (ISO 3166 code, ``"NO"``) of numbers written
            without ``+``; ``None`` requires the international form.

    Raises:
        ValueError: A key that is not a name, a ``choice`` field without choices, an unknown
            kind, or a pattern that is not a regular expression.
    """

    key: str = attrs.field(validator=_check_key)
    label: str = attrs.field(
        default=attrs.Factory(lambda f: f.key.replace("_", " ").capitalize(), takes_self=True)
    )
    kind: Kind = attrs.field(default="text", validator=attrs.validators.in_(KINDS))
    required: bool = False
    unique: bool = False
    max_length: int | None = 255
    choices: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    pattern: str | None = None
    check: Callable[[pd.Series], pd.Series] | None = attrs.field(default=None, eq=False)
    check_message: str = "is not accepted"
    headers: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_headers, hash=False
    )
    export_header: str = attrs.field(default=attrs.Factory(lambda f: f.label, takes_self=True))
    importable: bool = True
    compare: Compare = attrs.field(
        default="exact", validator=attrs.validators.in_(("exact", "casefold"))
    )
    region: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # The header names are a read-only mapping, which pickle cannot copy: a field is
        # pickled as its arguments (the web pages keep imports in progress as pickles).
        values = {a.name: getattr(self, a.name) for a in attrs.fields(Field)}
        values["headers"] = dict(self.headers)
        return (_field, (values,))

    def __attrs_post_init__(self) -> None:
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"the choice field {self.key!r} needs its choices")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"the pattern of {self.key!r} is not a regular expression: {exc}"
                ) from exc

    @property
    def builtin(self) -> bool:
        """Whether :class:`userimport.User` holds the field itself (not in ``attributes``)."""
        return self.key in BUILTIN_KEYS

    @property
    def target(self) -> str:
        """The property a column feeds: the key, or ``attributes.<key>`` for an added field."""
        return self.key if self.builtin else f"attributes.{self.key}"

    def parse(self, text: str) -> str:
        """
        Return ``text`` as the field keeps it, read by its kind as a file's cell is.

        >>> Field(key="start", kind="date").parse("31.12.2025")
        '2025-12-31'

        Raises:
            ValueError: ``text`` is not a value of the field (the message says what is).
        """
        import pandas as pd

        from . import _kinds

        cell = " ".join(str(text).split())
        values, bad = _kinds.read(self, pd.Series([cell], dtype="str"))
        value = str(values.iloc[0])
        problem = _kinds.EXPECTED.get(self.kind, "") if bool(bad[0]) else ""
        if self.kind == "choice" and problem:
            problem = "is not one of " + ", ".join(self.choices)
        elif self.max_length is not None and len(value) > self.max_length:
            problem = f"is longer than {self.max_length} characters"
        elif self.pattern is not None and value and not re.fullmatch(self.pattern, value):
            problem = f"does not match the pattern {self.pattern}"
        elif self.check is not None and value and not bool(self.check(pd.Series([value])).iloc[0]):
            problem = self.check_message
        if problem:
            raise ValueError(f"{self.key} {text!r} {problem}")
        return value

    def header_names(self) -> tuple[str, ...]:
        """Every name the field is recognised by: key, label, export header and ``headers``."""
        names = [self.key, self.key.replace("_", " "), self.label, self.export_header]
        for given in self.headers.values():
            names.extend(given)
        return tuple(dict.fromkeys(n for n in names if n))


def _check_fields(
    instance: UserSchema, attribute: attrs.Attribute[Any], value: tuple[Field, ...]
) -> None:
    keys = [f.key for f in value]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"a schema declares each field once; declared twice: {', '.join(twice)}")
    missing = [k for k in BUILTIN_KEYS if k not in keys]
    if missing:
        raise ValueError(f"a schema keeps the built-in fields; missing: {', '.join(missing)}")
    for f in value:
        if f.builtin:
            fixed = _BUILTIN[f.key]
            if (f.kind, f.required, f.unique, f.compare) != (
                fixed.kind,
                fixed.required,
                fixed.unique,
                fixed.compare,
            ):
                raise ValueError(
                    f"the built-in field {f.key!r} keeps its kind, required, unique and compare; "
                    "change its label, headers, export header or max length only"
                )


def _as_fields(value: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(value)


@attrs.frozen
class UserSchema:
    """
    The user fields of an app: the built-in ones and those it declares.

    >>> schema = DEFAULT_SCHEMA.with_fields(Field(key="phone", kind="phone", unique=True))
    >>> [f.key for f in schema.extra], schema["phone"].target
    (['phone'], 'attributes.phone')

    Args:
        fields: Every field, the built-in ones included (each key once).

    Raises:
        ValueError: A key declared twice, a built-in field missing, or a built-in field whose
            kind, required, unique or compare was changed.
    """

    fields: tuple[Field, ...] = attrs.field(converter=_as_fields, validator=_check_fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, key: object) -> bool:
        return any(f.key == key for f in self.fields)

    def __getitem__(self, key: str) -> Field:
        """The field named ``key`` (``KeyError`` if none)."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        """The field keys, in declaration order."""
        return tuple(f.key for f in self.fields)

    @property
    def extra(self) -> tuple[Field, ...]:
        """The fields that are not built in: kept in ``User.attributes`` under their key."""
        return tuple(f for f in self.fields if not f.builtin)

    @property
    def required(self) -> tuple[str, ...]:
        """The targets every row must have, in declaration order."""
        return tuple(f.target for f in self.fields if f.required)

    def by_target(self, target: str) -> Field | None:
        """The field a property (``email``, ``attributes.phone``) belongs to, if declared."""
        for f in self.fields:
            if f.target == target:
                return f
        return None

    def values(self, given: Mapping[str, str]) -> dict[str, str]:
        """
        Read ``{key: text}`` for the declared fields, as :meth:`Field.parse` reads each.

        Raises:
            ValueError: A key that is no declared field (built-in ones included), or a value
                its field refuses.
        """
        out: dict[str, str] = {}
        for key, text in given.items():
            field = next((f for f in self.extra if f.key == key), None)
            if field is None:
                known = ", ".join(f.key for f in self.extra) or "none"
                raise ValueError(f"{key!r} is not a declared field (declared: {known})")
            out[key] = field.parse(text)
        return out

    def with_fields(self, *fields: Field) -> UserSchema:
        """
        Return the schema with ``fields`` added; one with a key already declared replaces it.

        Args:
            *fields: The fields to add or redeclare.
        """
        given = {f.key: f for f in fields}
        kept = [given.pop(f.key, f) for f in self.fields]
        return UserSchema((*kept, *given.values()))


# The built-in fields' header names per language (moved from _headerwords). Sources: the column
# names of real exports and import templates in each language (Google Workspace, Microsoft
# Entra, Active Directory, Keycloak, SAP SuccessFactors, Slack, Google Forms) and the localised
# field labels of HR and payroll products (Visma, Tripletex, AFAS, Sage, Factorial, Personio,
# Zucchetti, Comarch, Primavera). ``email`` holds the mailbox family; sign-in names stay in
# ``_headerwords.SIGN_IN``.
_WORDS: dict[str, dict[str, str]] = {
    "first_name": {
        "en": "first name|firstname|first|given name|givenname|forename|fname",
        "no": "fornavn",
        "sv": "förnamn|tilltalsnamn",
        "da": "fornavn",
        "de": "vorname|rufname",
        "fi": "etunimi|etunimet|kutsumanimi",
        "is": "fornafn|eiginnafn",
        "nl": "voornaam|voornamen|roepnaam",
        "fr": "prénom|prénoms|prénom usuel",
        "es": "nombre|nombres|nombre de pila",
        "it": "nome",
        "pl": "imię|imiona",
        "pt": "nome|primeiro nome|prenome",
    },
    "last_name": {
        "en": "last name|lastname|last|surname|family name|lname|sn",
        "no": "etternavn|slektsnavn",
        "sv": "efternamn",
        "da": "efternavn",
        "de": "nachname|familienname|zuname",
        "fi": "sukunimi",
        "is": "eftirnafn|kenninafn|föðurnafn|ættarnafn",
        "nl": "achternaam|familienaam|geslachtsnaam",
        "fr": "nom|nom de famille|nom d'usage|nom de naissance",
        "es": "apellido|apellidos|primer apellido",
        "it": "cognome",
        "pl": "nazwisko",
        "pt": "sobrenome|apelido|apelidos|último nome",
    },
    "email": {
        "en": (
            "email|e-mail|mail|email address|e-mail address|mail address|work email"
            "|business email|primary email|user email|login email|sign-in email|emailaddress"
        ),
        "no": "e-post|epost|e-postadresse|jobb e-post",
        "sv": "e-post|e-postadress|mejl|mejladress",
        "da": "e-mail|e-mailadresse|mailadresse",
        "de": "e-mail|e-mail-adresse|mailadresse|arbeits-e-mail|geschäftliche e-mail",
        "fi": "sähköposti|sähköpostiosoite|s-posti|työsähköposti",
        "is": "netfang|tölvupóstur|tölvupóstfang",
        "nl": "e-mail|e-mailadres|emailadres|mailadres|zakelijk e-mailadres",
        "fr": (
            "e-mail|courriel|adresse e-mail|adresse électronique|adresse mail"
            "|adresse courriel|mail professionnel"
        ),
        "es": (
            "correo|correo electrónico|e-mail|dirección de correo"
            "|dirección de correo electrónico|correo corporativo"
        ),
        "it": (
            "e-mail|posta elettronica|indirizzo email|indirizzo e-mail"
            "|indirizzo di posta elettronica|mail aziendale"
        ),
        "pl": "e-mail|adres e-mail|poczta|poczta e-mail|adres poczty elektronicznej",
        "pt": ("e-mail|correio eletrónico|correio eletrônico|endereço de e-mail|endereço de email"),
    },
    "department": {
        "en": (
            "department|dept|division|department name|business unit|org unit"
            "|organizational unit|organisational unit"
        ),
        "no": "avdeling|avd|enhet|seksjon",
        "sv": "avdelning|enhet",
        "da": "afdeling|afd",
        "de": "abteilung|abt|bereich|organisationseinheit",
        "fi": "osasto|yksikkö|organisaatioyksikkö",
        "is": "deild|svið|eining",
        "nl": "afdeling|afdelingsnaam|organisatie-eenheid",
        "fr": "service|département|direction",
        "es": "departamento|área|unidad",
        "it": "reparto|dipartimento|ufficio|settore",
        "pl": "dział|departament|wydział|komórka organizacyjna",
        "pt": "departamento|setor|sector|área",
    },
    "groups": {
        "en": "groups|group|user groups|usergroups|user group|teams|team|member of",
        "no": "grupper|gruppe|brukergrupper|brukergruppe",
        "sv": "grupper|grupp|användargrupper|användargrupp",
        "da": "grupper|gruppe|brugergrupper|brugergruppe",
        "de": "gruppen|gruppe|benutzergruppen|benutzergruppe",
        "fi": "ryhmät|ryhmä|käyttäjäryhmät|käyttäjäryhmä|tiimit|tiimi",
        "is": "hópar|hópur|notendahópar|notendahópur",
        "nl": "groepen|groep|gebruikersgroepen|gebruikersgroep",
        "fr": "groupes|groupe|groupes d'utilisateurs|équipes|équipe",
        "es": "grupos|grupo|grupos de usuarios|equipos|equipo",
        "it": "gruppi|gruppo|gruppi utenti",
        "pl": "grupy|grupa|grupy użytkowników|zespoły|zespół",
        "pt": "grupos|grupo|equipas|equipes|equipa|equipe",
    },
    "is_admin": {
        "en": "admin|is admin|administrator|admin rights|is administrator",
        "no": "administrator|er admin|adminrettigheter",
        "sv": "administratör|är admin|adminbehörighet",
        "da": "administrator|er admin",
        "de": "administrator|ist admin|adminrechte",
        "fi": "ylläpitäjä|pääkäyttäjä|järjestelmänvalvoja",
        "is": "stjórnandi|kerfisstjóri",
        "nl": "beheerder|is beheerder",
        "fr": "administrateur|est administrateur",
        "es": "administrador|es administrador",
        "it": "amministratore",
        "pl": "czy administrator",
        "pt": "administrador",
    },
}


_BUILTIN: dict[str, Field] = {
    f.key: f
    for f in (
        Field(
            key="first_name",
            label="First name",
            export_header="First Name",
            required=True,
            headers=_WORDS["first_name"],
        ),
        Field(
            key="last_name",
            label="Last name",
            export_header="Last Name",
            required=True,
            headers=_WORDS["last_name"],
        ),
        Field(
            key="email",
            label="Email",
            kind="email",
            required=True,
            unique=True,
            compare="casefold",
            headers=_WORDS["email"],
        ),
        Field(key="department", label="Department", required=True, headers=_WORDS["department"]),
        Field(key="groups", label="Groups", export_header="User Groups", headers=_WORDS["groups"]),
        Field(
            key="is_admin",
            label="Admin",
            kind="boolean",
            importable=False,
            headers=_WORDS["is_admin"],
        ),
    )
}

#: The built-in fields, as every stage uses them unless given another schema.
DEFAULT_SCHEMA = UserSchema(tuple(_BUILTIN.values()))


def schema_of(repository: object) -> UserSchema:
    """The schema a repository was opened with (its ``schema``), else :data:`DEFAULT_SCHEMA`."""
    held = getattr(repository, "schema", None)
    return held if isinstance(held, UserSchema) else DEFAULT_SCHEMA


def schema_from_environment() -> UserSchema:
    """The schema ``USERIMPORT_SCHEMA`` names (see :func:`load_schema`), as the CLI reads it."""
    import os

    return load_schema(os.environ.get("USERIMPORT_SCHEMA"))


def load_schema(spec: str | None) -> UserSchema:
    """
    The schema an app names as ``package.module:NAME`` (how the CLI reads ``USERIMPORT_SCHEMA``).

    Args:
        spec: ``module:attribute``; ``None`` or empty for :data:`DEFAULT_SCHEMA`.

    Raises:
        SettingsError: The module cannot be imported, or the name is not a :class:`UserSchema`.
    """
    import importlib

    from .errors import SettingsError

    if not spec:
        return DEFAULT_SCHEMA
    module, _, name = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module), name or "SCHEMA")
    except (ImportError, AttributeError) as exc:
        raise SettingsError(f"cannot load the schema {spec!r}: {exc}") from exc
    if not isinstance(found, UserSchema):
        raise SettingsError(f"{spec!r} is a {type(found).__name__}, not a UserSchema")
    return found
