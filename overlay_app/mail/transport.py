"""Sending through SMTP (PLAZA_SMTP_*): one connection per run of the sender, STARTTLS and
sign-in when configured. Errors are sorted by what they mean for a retry:
- `NotConnected`: nothing was handed over (cannot connect, TLS, sign-in): try again later;
- `Refused(code)`: the server answered the message with an error: 4xx later, 5xx never;
- anything else while sending (the connection broke during the exchange): the server may
  have taken the mail, so the outbox calls it uncertain and never sends it again.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any


class NotConnected(Exception):
    pass


class Refused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code


class SmtpTransport:
    def __init__(self, settings: Any, timeout: float = 30) -> None:
        self.settings, self.timeout = settings, timeout
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except (OSError, smtplib.SMTPException) as error:
            raise NotConnected(f"{type(error).__name__}: {error}") from error
        self._smtp = smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise Refused(code, _text(text)) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise Refused(error.smtp_code, _text(error.smtp_error)) from error

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
