"""Subscriptions: someone, member or guest, asked for an email about each new comment on a post.

The id comes from (post, email), so an address holds at most one subscription per post
and ticking "notify me" twice changes nothing. A member's subscription (their account's address) is
confirmed at once; a guest's waits until the address's owner clicks the link in a confirmation letter,
so nobody can sign someone else's inbox up for a stream of mail.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import event

from cookout.domain.base import CookoutAggregate
from cookout.domain.errors import InvalidInput, NotAllowedNow
from cookout.domain.personal import guest_subject, personal
from cookout.domain.text import clean_text


def parse_subscriber_email(value: str) -> str:
    address = clean_text(value, "email", one_line=True, max_length=320, what="An email address")
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(f"We can't send notifications to that address: {error}", field="email") from None


class Subscription(CookoutAggregate):
    @staticmethod
    def create_id(post_id: UUID, email: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/cookout/subscription/{post_id}/{email.lower()}")

    # Subscriptions recorded before confirmation existed carry no `confirmed`: they stood as confirmed.
    @event("Subscribed")
    def __init__(self, post_id: UUID, email: str, confirmed: bool = True, member_id: UUID | None = None):
        self.post_id = post_id
        self.email = email
        self.member_id = member_id  # a member's own address; None for a guest's (and before this was kept)
        self.active = True
        self.confirmed = confirmed

    @event("Resubscribed")
    def resubscribe(self, confirmed: bool = True) -> None:
        """Starting again after unsubscribing needs a fresh confirmation unless it comes from a member."""
        if self.active:
            raise NotAllowedNow("Already subscribed to this post.")
        self.active = True
        self.confirmed = confirmed

    def confirm(self) -> None:
        if not self.active:
            raise NotAllowedNow("These emails were stopped. Tick “notify me” again to start them.")
        if not self.confirmed:
            self._confirm()

    @event("SubscriptionConfirmed")
    def _confirm(self) -> None:
        self.confirmed = True

    @event("Unsubscribed")
    def unsubscribe(self) -> None:
        if not self.active:
            raise NotAllowedNow("Not subscribed to this post.")
        self.active = False


# The address is sealed with its member's key, or for a guest with the address's own (domain/personal.py).
personal(Subscription.Subscribed,
         lambda state: state.get("member_id") or guest_subject(state["email"]), email="")
