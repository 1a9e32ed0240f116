"""
Welcome emails: the :class:`Notifier` protocol that :func:`~userimport.apply.apply_plan` calls
for each created user, :class:`SmtpNotifier` which sends them over SMTP, and the
:class:`Notification` recording how each send went.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from string import Template
from types import TracebackType
from typing import Protocol, runtime_checkable

import attrs

from .model import User

__all__ = [
    "DEFAULT_HTML",
    "DEFAULT_SUBJECT",
    "DEFAULT_TEXT",
    "LANGUAGES",
    "Notification",
    "Notifier",
    "SmtpNotifier",
]

#: The default subject; ``$app_name`` and the user's fields may be used.
DEFAULT_SUBJECT = "Welcome to $app_name"

#: The default plain-text body.
DEFAULT_TEXT = """\
Hello $first_name,

An account has been made for you in $app_name, with the email address $email.
$login_line
Welcome!
"""

#: The default HTML body (every value is HTML-escaped before it is put in).
DEFAULT_HTML = """\
<!DOCTYPE html>
<html><body>
<p>Hello $first_name,</p>
<p>An account has been made for you in <b>$app_name</b>, with the email address $email.</p>
$login_line
<p>Welcome!</p>
</body></html>
"""


#: The built-in welcome emails per language: subject, text body, HTML body, and the sign-in
#: line of the text body and the sign-in link's words in the HTML body.
LANGUAGES: dict[str, tuple[str, str, str, str, str]] = {
    "en": (DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML, "Sign in at {url}\n", "Sign in"),
    "nb": (
        "Velkommen til $app_name",
        """\
Hei $first_name,

Det er laget en konto til deg i $app_name, med e-postadressen $email.
$login_line
Velkommen!
""",
        """\
<!DOCTYPE html>
<html lang="nb"><body>
<p>Hei $first_name,</p>
<p>Det er laget en konto til deg i <b>$app_name</b>, med e-postadressen $email.</p>
$login_line
<p>Velkommen!</p>
</body></html>
""",
        "Logg inn på {url}\n",
        "Logg inn",
    ),
}


@runtime_checkable
class Notifier(Protocol):
    """Sends the welcome email to a user; raises any exception when it cannot."""

    def send_welcome(self, user: User) -> None:
        """Send ``user`` their welcome email."""
        ...


@attrs.frozen(kw_only=True)
class Notification:
    """
    How sending one welcome email went.

    Args:
        email: The recipient.
        sent: Whether the notifier accepted the message.
        error: Why not, when it did not.
    """

    email: str
    sent: bool
    error: str | None = None


class SmtpNotifier:
    """
    Sends welcome emails over SMTP, with a plain-text and an HTML part.

    One connection is opened on the first send and kept for the next ones (it is reopened
    once if the server dropped it); :meth:`close` ends it, and ``apply_plan`` calls it after
    the last send. Use it as a context manager to close it yourself.

    Args:
        host: The SMTP server.
        port: Its port (25, 587 for STARTTLS, 465 for implicit TLS).
        sender: The From address.
        sender_name: A display name for the From address.
        app_name: The application's name, for the templates.
        login_url: Where to sign in, for the templates (left out when empty).
        username: Log in with this user name (with ``password``), if given.
        password: The password for ``username``.
        starttls: Upgrade the connection with STARTTLS before logging in.
        implicit_tls: Connect with TLS from the start (SMTPS, usually port 465).
        timeout: Seconds to wait for the server.
        subject: The subject template (:class:`string.Template`: ``$first_name``,
            ``$last_name``, ``$email``, ``$app_name``, ``$login_url``); default: the
            language's.
        text_template: The plain-text body template (also ``$login_line``); default: the
            language's.
        html_template: The HTML body template; every value is escaped; default: the
            language's; ``""`` for a plain-text email.
        ssl_context: The TLS context (default: the system's trusted certificates).
        language: The language of the built-in subject, bodies and sign-in line: a key of
            :data:`LANGUAGES` (``en``, ``nb``).

    Raises:
        SettingsError: ``language`` is not one of :data:`LANGUAGES`.

    .. versionchanged:: unreleased
        ``language`` added; ``subject`` and the templates default to the language's.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        *,
        sender: str,
        sender_name: str = "",
        app_name: str = "the app",
        login_url: str = "",
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        timeout: float = 10.0,
        subject: str | None = None,
        text_template: str | None = None,
        html_template: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        language: str = "en",
    ) -> None:
        if language not in LANGUAGES:
            from .errors import SettingsError

            raise SettingsError(
                f"no built-in welcome email in {language!r}; choose one of "
                f"{', '.join(sorted(LANGUAGES))}, or give the subject and templates"
            )
        default_subject, default_text, default_html, login, link = LANGUAGES[language]
        self.language = language
        self._login_line, self._login_link = login, link
        self.host = host
        self.port = port
        self.sender = sender
        self.sender_name = sender_name
        self.app_name = app_name
        self.login_url = login_url
        self.username = username
        self.password = password
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.timeout = timeout
        self.subject = Template(default_subject if subject is None else subject)
        self.text_template = Template(default_text if text_template is None else text_template)
        html_text = default_html if html_template is None else html_template
        self.html_template = Template(html_text) if html_text else None
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def message(self, user: User) -> EmailMessage:
        """Return the welcome message for ``user`` (without sending it)."""
        values = {
            "first_name": user.first_name or user.email,
            "last_name": user.last_name,
            "email": user.email,
            "app_name": self.app_name,
            "login_url": self.login_url,
        }
        text_login = self._login_line.format(url=self.login_url) if self.login_url else ""
        msg = EmailMessage()
        msg["Subject"] = self.subject.safe_substitute(values)
        msg["From"] = (
            formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        )
        name = f"{user.first_name} {user.last_name}".strip()
        msg["To"] = formataddr((name, user.email)) if name else user.email
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(self.text_template.safe_substitute(values, login_line=text_login))
        if self.html_template is not None:
            escaped = {k: html.escape(v) for k, v in values.items()}
            link = html.escape(self.login_url, quote=True)
            words = html.escape(self._login_link)
            html_login = f'<p><a href="{link}">{words}</a></p>' if self.login_url else ""
            msg.add_alternative(
                self.html_template.safe_substitute(escaped, login_line=html_login), subtype="html"
            )
        return msg

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=context)
        if self.username is not None:
            smtp.login(self.username, self.password or "")
        return smtp

    def send_welcome(self, user: User) -> None:
        """
        Send ``user`` their welcome email.

        Raises:
            smtplib.SMTPException: The server refused the message or the recipient.
            OSError: The server cannot be reached.
        """
        message = self.message(user)
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise

    def close(self) -> None:
        """End the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def __enter__(self) -> SmtpNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
