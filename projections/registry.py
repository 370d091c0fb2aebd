"""Every projection Cookout runs, in one place for the runner, the CLI and read-your-writes."""

from __future__ import annotations

from cookout.projections.account_mail import AccountMail
from cookout.projections.activity import MemberActivity
from cookout.projections.base import CookoutProjection
from cookout.projections.feed import TribeFeed
from cookout.projections.invitations import Invitations
from cookout.projections.meetups import Meetups
from cookout.projections.members import MemberDirectory
from cookout.projections.moderation import ModerationQueue
from cookout.projections.outbox import Welcomes
from cookout.projections.reply_mail import ReplyMail
from cookout.projections.thread import ThreadTree
from cookout.projections.tribes import TribeDirectory

PROJECTIONS: tuple[type[CookoutProjection], ...] = (
    MemberDirectory,
    Welcomes,
    TribeDirectory,
    TribeFeed,
    ThreadTree,
    ModerationQueue,
    MemberActivity,
    ReplyMail,
    Meetups,
    Invitations,
    AccountMail,
)


def projection_named(name: str) -> type[CookoutProjection]:
    for projection in PROJECTIONS:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in PROJECTIONS)
    raise KeyError(f"No projection called {name!r}. Known: {known}")
