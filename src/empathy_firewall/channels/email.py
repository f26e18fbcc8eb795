"""The e-mail channel: a plain-text digest through an SMTP relay (stdlib ``smtplib``).

Every message carries ``List-Unsubscribe`` with the opt-out link and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), so mail clients offer
a one-click opt-out; ``Auto-Submitted: auto-generated`` (RFC 3834) keeps auto-replies away.
The ``Message-ID`` is derived from the digest id, so a digest sent again after a crash
carries the same id (SMTP cannot tell whether the first attempt arrived; clients that
deduplicate by Message-ID show it once). :attr:`EmailChannel.can_detect` is False.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from empathy_firewall.channels.base import Channel, Digest, NotSent, Recipient
from empathy_firewall.channels.settings import ChannelSettings, EmailSettings
from empathy_firewall.errors import ConfigError, RetryableError

__all__ = ["EmailChannel", "build_message"]


def build_message(digest: Digest, sender: str, to: str, now: datetime) -> EmailMessage:
    """The e-mail for ``digest`` (pure: the same digest gives the same Message-ID)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "empathy-firewall.invalid"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = digest.subject
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg["Message-ID"] = f"<{digest.digest_id}@{domain}>"
    msg["List-Unsubscribe"] = f"<{digest.opt_out_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Empathy-Firewall-Digest"] = digest.digest_id
    msg.set_content(digest.text)
    return msg


class EmailChannel(Channel):
    """Sends digests over SMTP (``[channels.email]``)."""

    name = "email"
    can_detect = False

    def __init__(self, settings: EmailSettings, password: str | None) -> None:
        self.settings = settings
        self._password = password

    @classmethod
    def from_settings(cls, settings: ChannelSettings, env: Mapping[str, str]) -> EmailChannel:
        """Build from ``[channels.email]``; the password comes from ``password_env``."""
        table = settings.email
        if table is None:
            raise ConfigError("channels.email: add a [channels.email] table to send e-mail")
        try:
            Address(addr_spec=parseaddr(table.sender)[1])
        except (ValueError, IndexError):
            raise ConfigError("channels.email.sender: not an e-mail address") from None
        password = env.get(table.password_env)
        if table.username and not password:
            raise ConfigError(
                f"channels.email.username is set but {table.password_env} "
                "(channels.email.password_env) is empty"
            )
        return cls(table, password)

    def __repr__(self) -> str:
        return f"EmailChannel({self.settings.host}:{self.settings.port})"

    def address(self, recipient: Recipient) -> str | None:
        """The agent's e-mail address (config, else the helpdesk's agent record).

        Something that is not a single plain address (no ``@``, a line break, a list) is
        treated as no address rather than risked as a header.
        """
        value = (recipient.email or "").strip()
        if value.count("@") != 1 or any(c in value for c in '\r\n,;<>"') or " " in value:
            return None
        return value

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise NotSent(
                f"the SMTP server refused the login ({exc.smtp_code})", retry=True
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotSent(
                f"cannot reach the SMTP server {s.host}:{s.port} ({type(exc).__name__})",
                retry=True,
            ) from None
        return smtp

    def send(self, digest: Digest, address: str) -> str:
        """Send the digest; the Message-ID is the reference.

        Refusals before the message body (sender, recipient, login, connection) raise
        :class:`NotSent`; a failure during or after the body is uncertain and raises
        :class:`RetryableError`, leaving the digest to be sent again by the next run.
        """
        try:
            message = build_message(digest, self.settings.sender, address, datetime.now(UTC))
        except (ValueError, TypeError) as exc:
            raise NotSent(f"cannot build the message ({type(exc).__name__})", retry=False) from None
        smtp = self._connect()
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise NotSent("the SMTP server refused the agent's address", retry=False) from None
        except smtplib.SMTPSenderRefused as exc:
            raise NotSent(
                f"the SMTP server refused the sender ({exc.smtp_code})", retry=exc.smtp_code < 500
            ) from None
        except smtplib.SMTPDataError as exc:
            raise NotSent(
                f"the SMTP server refused the message ({exc.smtp_code})",
                retry=exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RetryableError(
                f"the SMTP connection failed while sending ({type(exc).__name__}); "
                "the digest is sent again by the next run"
            ) from None
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return str(message["Message-ID"])
