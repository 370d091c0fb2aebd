"""The welcome letter a member gets when they join."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from cookout.platform.settings import Settings
from cookout.platform.templating import mail_templates


def build(payload: dict[str, Any], settings: Settings) -> EmailMessage:
    context = {**payload, "base_url": settings.base_url}
    message = EmailMessage()
    message["Subject"] = f"Welcome to Cookout, {payload['display_name']}"
    message.set_content(mail_templates.get_template("email/welcome.txt").render(context))
    message.add_alternative(mail_templates.get_template("email/welcome.html").render(context), subtype="html")
    return message
