"""Send the weekly report: the HTML as the body, the daily CSV attached.

SMTP settings come from `settings.smtp`; the password only from the
environment (CALLWATCH_SMTP_PASSWORD), never from the file or the logs.
"""

from __future__ import annotations

import smtplib
import ssl
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


def send_message(settings: Settings, message: EmailMessage, *, timeout: float = 30.0) -> None:
    smtp = settings.smtp
    password = secret(PASSWORD_ENV)
    if smtp.username and not password:
        raise ReportMailError(f"smtp.username is set but {PASSWORD_ENV} is not; set it in the service's environment")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReportMailError(f"could not send the report through {smtp.host}:{smtp.port}: {exc}") from exc
