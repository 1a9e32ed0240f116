"""Shared hypothesis strategies: every value type of userimport has one here."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from userimport import ImportSettings, Permissions, User

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZæøåÆØÅéüößÉ"
NASTY = "'-=+@\";,.()"
GROUP_POOL = ["Oslo", "Bergen", "Tech", "Leaders", "Sales Nordic", "Trainees", "Ædelweiss"]
DEPARTMENTS = ["Sales", "Engineering", "HR", "Økonomi", "Support"]
N_EMAILS = 12

word = st.text(alphabet=LETTERS, min_size=1, max_size=8)
nasty_word = st.text(alphabet=LETTERS + NASTY, min_size=1, max_size=8).filter(
    lambda w: any(c.isalpha() for c in w)
)

#: A name as validation leaves it: trimmed, single spaces, sometimes with formula-ish characters.
names = st.lists(st.one_of(word, nasty_word), min_size=1, max_size=3).map(" ".join)
departments = st.one_of(st.sampled_from(DEPARTMENTS), names)
group_sets = st.frozensets(st.sampled_from(GROUP_POOL), max_size=3)


def email_for(index: int, upper: bool = False) -> str:
    """The email of pool member ``index`` (so that store and file overlap)."""
    email = f"user.{index}@example.no"
    return email.upper() if upper else email


emails = st.builds(email_for, st.integers(0, N_EMAILS - 1), st.booleans())
attributes = st.dictionaries(st.just("title"), names, max_size=1)


@st.composite
def users(draw: Any, index: int | None = None) -> User:
    """A user of the store, with an email from the shared pool."""
    i = draw(st.integers(0, N_EMAILS - 1)) if index is None else index
    return User(
        email=email_for(i, draw(st.booleans())),
        first_name=draw(names),
        last_name=draw(names),
        department=draw(departments),
        groups=draw(group_sets),
        is_admin=draw(st.booleans()),
        attributes=draw(attributes),
    )


@st.composite
def stores(draw: Any) -> list[User]:
    """The users of a store: distinct emails from the shared pool."""
    indexes = draw(st.sets(st.integers(0, N_EMAILS - 1), max_size=8))
    return [draw(users(index=i)) for i in sorted(indexes)]


@st.composite
def file_rows(draw: Any) -> list[list[str]]:
    """
    Data rows of a file: first, last, email, department, groups, title, admin.

    Emails come from the shared pool (so some rows update stored users, and some emails
    repeat); some cells are empty, which makes the row invalid or leaves stored data alone.
    """
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        groups = sorted(draw(group_sets))
        rows.append(
            [
                draw(st.one_of(names, st.just(""))) if draw(st.booleans()) else draw(names),
                draw(names),
                draw(emails),
                draw(departments),
                ", ".join(groups),
                draw(st.one_of(st.just(""), names)),
                draw(st.sampled_from(["", "yes", "no"])),
            ]
        )
    return rows


settings = st.builds(
    ImportSettings,
    on_existing=st.sampled_from(["update", "skip"]),
    groups=st.sampled_from(["add", "replace"]),
    delete_missing=st.booleans(),
    max_deletes=st.just(None),
    max_delete_fraction=st.just(None),
    delete_admins=st.booleans(),
    admin_rights=st.booleans(),
)


#: Ways a person breaks an email so that it cannot be read as an address.
BREAKS = {
    "no_at": lambda e: e.replace("@", "", 1),
    "no_tld": lambda e: e.rsplit(".", 1)[0],
    "two_ats": lambda e: e.replace("@", "@@", 1),
    "zero_width": lambda e: e[:2] + "\u200b" + e[2:],
    "space": lambda e: e[:2] + " " + e[2:],
    "comma": lambda e: ",".join(e.rsplit(".", 1)),
}


@st.composite
def broken_emails(draw: Any, email: str) -> str:
    """``email`` with a typo that makes it unreadable as an address (see :data:`BREAKS`)."""
    return str(BREAKS[draw(st.sampled_from(sorted(BREAKS)))](email))


permissions = st.builds(
    Permissions,
    admin_rights=st.booleans(),
    delete_admins=st.booleans(),
    max_deletes=st.none() | st.integers(0, 6),
    max_delete_fraction=st.none() | st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
