"""Welcome emails over SMTP, against a real SMTP server on loopback."""

from __future__ import annotations

import socket
from typing import Any

from tests.conftest import Mailbox, make_review
from userimport import ImportSettings, Notifier, User, apply_plan, plan_import
from userimport.notify import SmtpNotifier

KARI = User(email="kari@firma.no", first_name="Kari", last_name="<Dahl>", department="Sales")


def notifier(port: int, **kw: Any) -> SmtpNotifier:
    kw.setdefault("timeout", 5)
    return SmtpNotifier("127.0.0.1", port, sender="noreply@app.no", app_name="Intranett", **kw)


def test_is_a_notifier() -> None:
    """SmtpNotifier satisfies the Notifier protocol."""
    assert isinstance(notifier(25), Notifier)


def test_message_has_text_and_escaped_html() -> None:
    """The welcome message has a plain-text and an HTML part; names are escaped in HTML."""
    msg = notifier(25, login_url="https://app.no/login?a=1&b=2").message(KARI)
    assert "Welcome to Intranett" == msg["Subject"]
    assert '"Kari <Dahl>" <kari@firma.no>' == msg["To"]
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Hello Kari," in text.get_content()
    assert "Sign in at https://app.no/login?a=1&b=2" in text.get_content()
    assert "&lt;Dahl&gt;" not in text.get_content()
    assert 'href="https://app.no/login?a=1&amp;b=2"' in html.get_content()


def test_sends_to_a_real_server(smtp: tuple[Mailbox, int]) -> None:
    """Messages reach the server, over one connection for several users."""
    mailbox, port = smtp
    with notifier(port) as n:
        n.send_welcome(KARI)
        n.send_welcome(User(email="per@firma.no", first_name="Per"))
    assert ["kari@firma.no", "per@firma.no"] == [
        m["To"].addresses[0].addr_spec for m in mailbox.messages
    ]


def test_apply_reports_refused_recipients_and_keeps_the_import(
    smtp: tuple[Mailbox, int], empty_repo
) -> None:  # type: ignore[no-untyped-def]
    """A refused recipient is reported per user; the import stands and the others are welcomed."""
    mailbox, port = smtp
    mailbox.refuse = {"kari@firma.no"}
    rows = [
        ["Kari", "Dahl", "kari@firma.no", "Sales", ""],
        ["Per", "Lie", "per@firma.no", "HR", ""],
    ]
    plan = plan_import(make_review(rows), empty_repo, ImportSettings(send_welcome_email=True))
    result = apply_plan(plan, empty_repo, notifier=notifier(port))
    assert 2 == len(empty_repo.snapshot())
    assert ("kari@firma.no",) == result.not_notified
    assert "550" in (result.notifications[0].error or "")
    assert ["per@firma.no"] == [m["To"].addresses[0].addr_spec for m in mailbox.messages]


def test_retry_sends_to_the_rest(smtp: tuple[Mailbox, int], empty_repo) -> None:  # type: ignore[no-untyped-def]
    """After a failure, one call sends the missing welcome emails."""
    mailbox, port = smtp
    mailbox.refuse = {"kari@firma.no"}
    rows = [
        ["Kari", "Dahl", "kari@firma.no", "Sales", ""],
        ["Per", "Lie", "per@firma.no", "HR", ""],
    ]
    plan = plan_import(make_review(rows), empty_repo, ImportSettings(send_welcome_email=True))
    result = apply_plan(plan, empty_repo, notifier=notifier(port))
    mailbox.refuse = set()
    again = result.retry_welcome_emails(notifier(port))
    assert () == again.not_notified
    assert ["per@firma.no", "kari@firma.no"] == [
        m["To"].addresses[0].addr_spec for m in mailbox.messages
    ]


def test_dropped_connection_is_reported(smtp: tuple[Mailbox, int], empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A server that closes the connection half way: who got an email and who did not is exact."""
    mailbox, port = smtp
    mailbox.drop_after = 1
    rows = [[f"U{i}", "X", f"u{i}@firma.no", "HR", ""] for i in range(3)]
    plan = plan_import(make_review(rows), empty_repo, ImportSettings(send_welcome_email=True))
    result = apply_plan(plan, empty_repo, notifier=notifier(port))
    sent = [n.email for n in result.notifications if n.sent]
    assert ["u0@firma.no"] == sent
    assert ("u1@firma.no", "u2@firma.no") == result.not_notified
    assert 3 == len(empty_repo.snapshot())


def test_unreachable_server_is_reported(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """No server listening: each user is reported as not welcomed, the import stands."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plan = plan_import(
        make_review([["Kari", "Dahl", "kari@firma.no", "Sales", ""]]),
        empty_repo,
        ImportSettings(send_welcome_email=True),
    )
    result = apply_plan(plan, empty_repo, notifier=notifier(port, timeout=1))
    assert ("kari@firma.no",) == result.not_notified
    assert 1 == len(empty_repo.snapshot())


def test_language_gives_the_built_in_email_and_an_unknown_one_is_refused() -> None:
    """language='nb' gives the Norwegian subject, body and sign-in line; 'xx' a SettingsError."""
    import pytest

    from userimport import SettingsError, User
    from userimport.notify import SmtpNotifier

    notifier = SmtpNotifier(
        sender="it@firma.no", app_name="Intra", login_url="https://i.no", language="nb"
    )
    msg = notifier.message(User(email="a@firma.no", first_name="Anna", last_name="B"))
    assert "Velkommen til Intra" == msg["Subject"]
    assert "Logg inn på https://i.no" in msg.get_body(("plain",)).get_content()
    assert ">Logg inn</a>" in msg.get_body(("html",)).get_content()
    with pytest.raises(SettingsError, match="'xx'"):
        SmtpNotifier(sender="it@firma.no", language="xx")
