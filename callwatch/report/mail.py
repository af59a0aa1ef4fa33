"""Send the weekly report: the HTML as the body, the daily CSV attached.

SMTP settings come from `settings.smtp`; the password only from the
environment (CALLWATCH_SMTP_PASSWORD), never from the file or the logs.

Exactly once per recipient: the server's reply to RCPT says who was refused,
its reply to the end of DATA says whether the mail was taken (RFC 5321 3.3);
what happens after (a failed QUIT, a dropped link) cannot un-send it. The DATA
reply gets its own, long timeout (smtp.data_timeout_seconds): a server that
is slow to confirm has usually stored the mail, and giving up would resend it.
"""

from __future__ import annotations

import contextlib
import io
import smtplib
import ssl
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from callwatch.config import environment
from callwatch.config.settings import Settings, secret

PASSWORD_ENV = environment.SMTP_PASSWORD


class ReportMailError(Exception):
    """The report could not be sent; the message says what to fix."""


def build_message(
    settings: Settings, subject: str, html: str, csv_text: str, csv_name: str, recipients: list[str]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp.sender.rpartition("@")[2] or None)
    message.set_content(
        "This is the weekly callwatch phone report. Open it in a mail program that shows HTML, open the "
        f"attached HTML file in a browser, or open the attached {csv_name} in a spreadsheet."
    )
    message.add_alternative(html, subtype="html")
    message.add_attachment(csv_text.encode("utf-8"), maintype="text", subtype="csv", filename=csv_name)
    # Some mail programs (Gmail, Outlook) drop inline SVG charts; the attached
    # copy opens in a browser with everything in it.
    html_name = csv_name.rsplit(".", 1)[0] + ".html"
    message.add_attachment(html.encode("utf-8"), maintype="text", subtype="html", filename=html_name)
    return message


@dataclass(frozen=True)
class Delivery:
    """What the server said about each recipient of one message."""

    accepted: tuple[str, ...] = ()
    # recipient -> the server's reply (e.g. "550 mailbox unavailable")
    refused: dict[str, str] = field(default_factory=dict)
    # The message was sent but the server never confirmed it: counted as delivered (never sent twice).
    unconfirmed: tuple[str, ...] = ()


def send_message(settings: Settings, message: EmailMessage, recipients: list[str]) -> Delivery:
    """Send `message` to `recipients`; ReportMailError when nothing could be sent at all."""
    smtp = settings.smtp
    password = secret(PASSWORD_ENV)
    if smtp.username and not password:
        raise ReportMailError(f"smtp.username is set but {PASSWORD_ENV} is not; set it in the service's environment")
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReportMailError(f"could not send the report through {smtp.host}:{smtp.port}: {exc}") from exc
    try:
        return _transaction(client, settings, message, recipients, password)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReportMailError(f"could not send the report through {smtp.host}:{smtp.port}: {exc}") from exc
    finally:
        client.close()


def _transaction(
    client: smtplib.SMTP, settings: Settings, message: EmailMessage, recipients: list[str], password: str | None
) -> Delivery:
    smtp = settings.smtp
    client.ehlo_or_helo_if_needed()
    if smtp.starttls:
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    if smtp.username:
        client.login(smtp.username, password or "")
    code, reply = client.mail(smtp.sender)
    if code != 250:
        raise ReportMailError(f"{smtp.host} refused the sender {smtp.sender}: {code} {_text(reply)}")
    refused: dict[str, str] = {}
    for address in recipients:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            refused[address] = f"{code} {_text(reply)}"
    accepted = tuple(a for a in recipients if a not in refused)
    if not accepted:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.rset()
        return Delivery(refused=refused)
    if client.sock is not None:
        client.sock.settimeout(smtp.data_timeout_seconds)
    try:
        code, reply = client.data(_wire_bytes(message))
    except (OSError, smtplib.SMTPServerDisconnected):
        # Sent, but no reply: perhaps stored, perhaps not. Resending would risk a second copy.
        return Delivery(refused=refused, unconfirmed=accepted)
    if code != 250:
        return Delivery(refused={**refused, **{a: f"{code} {_text(reply)}" for a in accepted}})
    # The reply to DATA decides; a failing QUIT afterwards changes nothing.
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.quit()
    return Delivery(accepted=accepted, refused=refused)


def _wire_bytes(message: EmailMessage) -> bytes:
    """The message as smtplib.send_message would put it on the wire (CRLF, lines folded)."""
    with io.BytesIO() as buffer:
        BytesGenerator(buffer).flatten(message, linesep="\r\n")
        return buffer.getvalue()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
