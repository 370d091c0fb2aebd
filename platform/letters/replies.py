"""The emails about new comments: a reply to what you wrote, a new comment on a post you follow, and
the letter that asks a guest to confirm they want the latter."""

from __future__ import annotations

from typing import Any

from cookout.platform.letters.kind import Context, LetterKind
from cookout.platform.links import confirm_url, unsubscribe_url
from cookout.platform.settings import Settings
from cookout.projections.reply_mail import CONFIRM_SUBSCRIPTION, NEW_COMMENT, REPLY


def reply_context(payload: dict[str, Any], settings: Settings) -> Context:
    what = "your comment" if payload["to_comment"] else "your post"
    return {**payload, "what": what, "link": comment_link(payload, settings),
            "settings_url": f"{settings.base_url}/settings"}


def new_comment_context(payload: dict[str, Any], settings: Settings) -> Context:
    return {**payload, "link": comment_link(payload, settings),
            "unsubscribe_url": unsubscribe_url(settings, payload["post_id"], payload["email"])}


def confirmation_context(payload: dict[str, Any], settings: Settings) -> Context:
    return {**payload, "confirm_url": confirm_url(settings, payload["post_id"], payload["email"])}


def one_click_unsubscribe(context: Context) -> dict[str, str]:
    """RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this address."""
    return {"List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def comment_link(payload: dict[str, Any], settings: Settings) -> str:
    return f"{settings.base_url}/c/{payload['comment_id']}"


LETTERS = (
    LetterKind(
        kind=REPLY,
        template="reply",
        context=reply_context,
        subject=lambda c: f"{c['author_name']} replied to {c['what']} on “{c['post_title']}”",
    ),
    LetterKind(
        kind=NEW_COMMENT,
        template="new_comment",
        context=new_comment_context,
        subject=lambda c: f"New comment on “{c['post_title']}”",
        headers=one_click_unsubscribe,
    ),
    LetterKind(
        kind=CONFIRM_SUBSCRIPTION,
        template="confirm_subscription",
        context=confirmation_context,
        subject=lambda c: f"Confirm emails about new comments on “{c['post_title']}”",
    ),
)
