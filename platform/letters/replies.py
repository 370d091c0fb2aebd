"""The emails about new comments: a reply to what you wrote, a new comment on a post you follow, and
the letter that asks a guest to confirm they want the latter."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from cookout.platform.settings import Settings
from cookout.platform.links import confirm_url, unsubscribe_url
from cookout.platform.templating import mail_templates
from cookout.projections.reply_mail import CONFIRM_SUBSCRIPTION, NEW_COMMENT, REPLY


def build_reply(payload: dict[str, Any], settings: Settings) -> EmailMessage:
    what = "your comment" if payload["to_comment"] else "your post"
    context = {**payload, "what": what, "link": comment_link(payload, settings), "settings_url": f"{settings.base_url}/settings"}
    return message(f"{payload['author_name']} replied to {what} on “{payload['post_title']}”", "reply", context)


def build_new_comment(payload: dict[str, Any], settings: Settings) -> EmailMessage:
    unsubscribe = unsubscribe_url(settings, payload["post_id"], payload["email"])
    context = {**payload, "link": comment_link(payload, settings), "unsubscribe_url": unsubscribe}
    built = message(f"New comment on “{payload['post_title']}”", "new_comment", context)
    # RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address.
    built["List-Unsubscribe"] = f"<{unsubscribe}>"
    built["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return built


def build_confirmation(payload: dict[str, Any], settings: Settings) -> EmailMessage:
    context = {**payload, "confirm_url": confirm_url(settings, payload["post_id"], payload["email"])}
    return message(f"Confirm emails about new comments on “{payload['post_title']}”", "confirm_subscription", context)


def comment_link(payload: dict[str, Any], settings: Settings) -> str:
    return f"{settings.base_url}/p/{payload['post_id']}#c-{payload['comment_id']}"


def message(subject: str, template: str, context: dict[str, Any]) -> EmailMessage:
    built = EmailMessage()
    built["Subject"] = subject
    built.set_content(mail_templates.get_template(f"email/{template}.txt").render(context))
    built.add_alternative(mail_templates.get_template(f"email/{template}.html").render(context), subtype="html")
    return built


BUILDERS = {REPLY: build_reply, NEW_COMMENT: build_new_comment, CONFIRM_SUBSCRIPTION: build_confirmation}
