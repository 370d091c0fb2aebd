"""Reply emails from the log: who gets one, when, once, and how they stop."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from cookout.domain.community import Tribes
from cookout.domain.moderating import Moderation
from cookout.domain.threads import Threads
from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.projections.reply_mail import ReplyMail, letter_key
from cookout.workers import mail
from tests.conversation_helpers import acting_as, comment, new_member, new_post, new_tribe, settle
from tests.helpers import rebuilding, unique


def email_of(container: Container, member_id: UUID) -> str:
    return container.accounts.get_member(member_id).email


def letters_for(container: Container, comment_id: UUID) -> dict[str, dict[str, Any]]:
    rows = container.outbox.rows("SELECT * FROM outbox WHERE key LIKE %(k)s", {"k": f"conversation:{comment_id}:%"})
    return {row["recipient"].lower(): row for row in rows}


def a_thread(container: Container) -> tuple[UUID, UUID, UUID]:
    author = new_member(container, "Post Author")
    tribe_id, _ = new_tribe(container, author)
    return author, tribe_id, new_post(container, author, tribe_id, "Reply mail")


def test_a_reply_emails_the_author_it_answers_with_a_link_and_never_the_replier(container: Container) -> None:
    author, _, post_id = a_thread(container)
    replier = new_member(container, "Quick Replier")
    first = comment(container, replier, post_id, "First!")
    answer = comment(container, author, post_id, "Welcome, *friend*", first)
    settle(container)

    to_post_author = letters_for(container, first)
    assert list(to_post_author) == [email_of(container, author).lower()]
    assert to_post_author[email_of(container, author).lower()]["kind"] == "reply"
    to_replier = letters_for(container, answer)
    assert list(to_replier) == [email_of(container, replier).lower()]

    sent: list[EmailMessage] = []
    key = letter_key(answer, email_of(container, replier))
    assert mail.deliver_letter(container.outbox, container.settings, key, lambda m, k: sent.append(m)) == "sent"
    assert mail.deliver_letter(container.outbox, container.settings, key, lambda m, k: sent.append(m)) == "skipped"
    assert len(sent) == 1
    text = sent[0].get_body(("plain",)).get_content()
    assert f"{container.settings.base_url}/c/{answer}" in text
    assert "Post Author replied to your comment" in sent[0]["Subject"]
    assert "Welcome, friend" in text


def test_talking_to_yourself_sends_nothing(container: Container) -> None:
    author, _, post_id = a_thread(container)
    own = comment(container, author, post_id, "Note to self")
    comment(container, author, post_id, "Another note", own)
    settle(container)
    assert letters_for(container, own) == {}


def test_members_who_turned_reply_emails_off_get_none(container: Container) -> None:
    author, _, post_id = a_thread(container)
    with acting_as(author):
        container.accounts.update_profile("Post Author", reply_emails=False)
    settle(container)
    reply = comment(container, new_member(container), post_id, "Hello?")
    settle(container)
    assert letters_for(container, reply) == {}


def test_subscribers_get_one_letter_per_visible_comment_with_one_click_unsubscribe(
    container: Container, client: TestClient[Any]
) -> None:
    author, _, post_id = a_thread(container)
    follower = f"{unique()}@example.org"
    comment(container, None, post_id, "Following along", name="Fay", email=follower, notify=True)
    with acting_as(author):
        container.service(Threads).subscribe(post_id, follower)  # twice changes nothing
    talker = new_member(container, "Talker")
    news = comment(container, talker, post_id, "Some news")
    settle(container)
    letter = letters_for(container, news)[follower]
    assert letter["kind"] == "new_comment"

    sent: list[EmailMessage] = []
    mail.deliver_letter(container.outbox, container.settings, letter["key"], lambda m, k: sent.append(m))
    unsubscribe = sent[0]["List-Unsubscribe"].strip("<>")
    assert sent[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in sent[0].get_body(("plain",)).get_content()
    path = unsubscribe.removeprefix(container.settings.base_url)
    assert "Unsubscribe" in client.get(path).text
    # A mail client's one-click POST carries no CSRF token; the signed link is enough.
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "unsubscribed" in one_click.text
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.get(path.rstrip("/") + "x").status_code == 404

    later = comment(container, talker, post_id, "More news")
    settle(container)
    assert follower not in letters_for(container, later)


def test_a_held_comment_notifies_when_approved_and_only_once(container: Container) -> None:
    author, _, post_id = a_thread(container)
    follower = f"{unique()}@example.org"
    comment(container, new_member(container), post_id, "Subscribed member", email=follower, notify=True)
    held = comment(container, None, post_id, "Guest words", name="Gil", email=f"{unique()}@example.org")
    settle(container)
    assert letters_for(container, held) == {}

    moderation = container.service(Moderation)
    with acting_as(author):
        moderation.approve_comment(held)
        moderation.hide_comment(held, "Second thoughts")
        moderation.approve_comment(held)
    settle(container)
    letters = letters_for(container, held)
    assert set(letters) == {follower, email_of(container, author).lower()}
    assert container.outbox.rows("SELECT count(*) AS n FROM outbox WHERE key LIKE %(k)s",
                               {"k": f"conversation:{held}:%"}) == [{"n": 2}]


def test_a_guest_is_never_emailed_about_their_own_comment(container: Container) -> None:
    _, _, post_id = a_thread(container)
    guest = f"{unique()}@example.org"
    own = comment(container, None, post_id, "My own words", name="Gia", email=guest, notify=True)
    settle(container)
    assert guest not in letters_for(container, own)


def test_replaying_the_log_sends_no_second_letter(container: Container) -> None:
    author, _, post_id = a_thread(container)
    reply = comment(container, new_member(container), post_id, "Replayed")
    settle(container)
    key = letter_key(reply, email_of(container, author))
    mail.deliver_letter(container.outbox, container.settings, key, lambda m, k: None)
    with rebuilding(container) as other:
        rebuild(other, ReplyMail)
    assert container.outbox.rows("SELECT status FROM outbox WHERE key = %(k)s", {"k": key}) == [{"status": "sent"}]


def test_someone_who_left_a_members_only_tribe_hears_nothing_more_from_it(container: Container) -> None:
    founder = new_member(container, "Founder")
    tribe_id, _ = new_tribe(container, founder, visibility="members")
    leaver = new_member(container, "Leaver")
    tribes = container.service(Tribes)
    with acting_as(founder):
        tribes.admit_member(tribe_id, leaver)
    post_id = new_post(container, founder, tribe_id)
    theirs = comment(container, leaver, post_id, "Keep me posted", notify=True, email=email_of(container, leaver))
    with acting_as(leaver):
        tribes.leave_tribe(tribe_id)
    reply = comment(container, founder, post_id, "A private answer", theirs)
    settle(container)
    assert email_of(container, leaver).lower() not in letters_for(container, reply)


def test_replaying_the_log_follows_the_reply_setting_as_it_was_then(container: Container) -> None:
    author, _, post_id = a_thread(container)
    with acting_as(author):
        container.accounts.update_profile("Post Author", reply_emails=False)
    first = comment(container, new_member(container, "Replier"), post_id, "Hello")
    with acting_as(author):
        container.accounts.update_profile("Post Author", reply_emails=True)
    settle(container)
    assert letters_for(container, first) == {}
    with rebuilding(container) as other:
        rebuild(other, ReplyMail)
    assert letters_for(container, first) == {}


def test_a_rebuild_decides_each_comment_on_what_was_true_when_it_was_posted(container: Container) -> None:
    """A rebuild replays this in one batch, deciding its comments' letters together: a subscription
    made after a comment still brings no letter about it."""
    author, _, post_id = a_thread(container)
    before = comment(container, new_member(container), post_id, "Before the subscription")
    late = f"{unique()}@example.org"
    subscribe(container, author, post_id, late)
    after = comment(container, new_member(container), post_id, "After the subscription")
    settle(container)
    assert late not in letters_for(container, before) and late in letters_for(container, after)
    with rebuilding(container) as other:
        rebuild(other, ReplyMail)
    assert late not in letters_for(container, before) and late in letters_for(container, after)


def test_a_rebuild_decides_a_comment_before_a_later_subscription_to_its_post_after_one_to_another_post(
        container: Container) -> None:
    """A subscription to another post leaves the comment undecided (its audience is not that post's), and
    the later subscription to its own post still brings no letter about it."""
    author, _, post_id = a_thread(container)
    _, _, other_post = a_thread(container)
    before = comment(container, new_member(container), post_id, "Before both subscriptions")
    elsewhere, late = f"{unique()}@example.org", f"{unique()}@example.org"
    subscribe(container, author, other_post, elsewhere)
    subscribe(container, author, post_id, late)
    after = comment(container, new_member(container), post_id, "After both subscriptions")
    settle(container)
    with rebuilding(container) as other:
        rebuild(other, ReplyMail)
    assert late not in letters_for(container, before) and late in letters_for(container, after)
    assert elsewhere not in letters_for(container, before) | letters_for(container, after)


# Who hears about a comment, case by case: each pins what announcements() decides.

def subscribe(container: Container, as_member: UUID, post_id: UUID, email: str) -> None:
    with acting_as(as_member):
        container.service(Threads).subscribe(post_id, email)


def test_a_reply_to_a_comment_whose_author_turned_reply_emails_off_only_reaches_subscribers(container: Container) -> None:
    author, _, post_id = a_thread(container)
    quiet = new_member(container, "Quiet One")
    theirs = comment(container, quiet, post_id, "Do not write back")
    follower = f"{unique()}@example.org"
    subscribe(container, author, post_id, follower)
    with acting_as(quiet):
        container.accounts.update_profile("Quiet One", reply_emails=False)
    settle(container)
    answer = comment(container, new_member(container, "Replier"), post_id, "Writing back anyway", theirs)
    settle(container)
    letters = letters_for(container, answer)
    assert set(letters) == {follower}  # not the quiet one; not the post's author, whose post it doesn't answer
    assert letters[follower]["kind"] == "new_comment"


def test_reply_emails_off_still_leaves_the_subscription_and_on_means_one_reply_letter(container: Container) -> None:
    author, _, post_id = a_thread(container)
    reader = new_member(container, "Reader")
    address = email_of(container, reader)
    first = comment(container, reader, post_id, "Subscribing", notify=True, email=address)
    answer = comment(container, author, post_id, "Thanks", first)
    settle(container)
    letters = letters_for(container, answer)
    assert list(letters) == [address.lower()] and letters[address.lower()]["kind"] == "reply"

    with acting_as(reader):

        container.accounts.update_profile("Reader", reply_emails=False)
    settle(container)
    again = comment(container, author, post_id, "Thanks again", first)
    settle(container)
    letters = letters_for(container, again)
    assert list(letters) == [address.lower()] and letters[address.lower()]["kind"] == "new_comment"


def test_in_a_members_only_tribe_only_members_who_stayed_hear_of_replies(container: Container) -> None:
    founder = new_member(container, "Founder")
    tribe_id, _ = new_tribe(container, founder, visibility="members")
    stayer, leaver, poster = new_member(container, "Stayer"), new_member(container, "Leaver"), new_member(container, "Poster")
    tribes = container.service(Tribes)
    with acting_as(founder):
        for member in (stayer, leaver, poster):
            tribes.admit_member(tribe_id, member)
    post_id = new_post(container, poster, tribe_id)
    from_stayer = comment(container, stayer, post_id, "Staying")
    from_leaver = comment(container, leaver, post_id, "Going")  # no subscription
    for gone in (leaver, poster):
        with acting_as(gone):
            tribes.leave_tribe(tribe_id)
    to_stayer = comment(container, founder, post_id, "Good", from_stayer)
    to_leaver = comment(container, founder, post_id, "Bye", from_leaver)
    to_post = comment(container, stayer, post_id, "Where did the poster go?")
    settle(container)
    letters = letters_for(container, to_stayer)
    assert list(letters) == [email_of(container, stayer).lower()]
    assert letters[email_of(container, stayer).lower()]["payload"]["to_comment"] is True
    assert letters_for(container, to_leaver) == {}
    assert letters_for(container, to_post) == {}


def test_a_subscriber_who_comments_is_not_told_of_their_own_comment_whatever_the_case(container: Container) -> None:
    author, _, post_id = a_thread(container)
    talker = new_member(container, "Talker")
    address = email_of(container, talker)
    local, domain = address.split("@")
    subscribe(container, author, post_id, f"{local.upper()}@{domain}")
    other = f"{unique()}@example.org"
    subscribe(container, author, post_id, other)
    news = comment(container, talker, post_id, "My own news")
    settle(container)
    letters = letters_for(container, news)
    assert set(letters) == {email_of(container, author).lower(), other}
    assert letters[email_of(container, author).lower()]["kind"] == "reply"
    assert letters[other]["kind"] == "new_comment"


def test_a_guest_with_a_subscribed_address_is_not_told_of_their_own_comment(container: Container) -> None:
    author, _, post_id = a_thread(container)
    local = unique()
    subscribe(container, author, post_id, f"{local.capitalize()}@example.org")
    held = comment(container, None, post_id, "Guest words", name="Gus", email=f"{local}@example.org")
    settle(container)
    assert letters_for(container, held) == {}
    with acting_as(author):
        container.service(Moderation).approve_comment(held)
    later = comment(container, None, post_id, "Now I skip the queue", name="Gus", email=f"{local}@example.org")
    settle(container)
    for said in (held, later):
        letters = letters_for(container, said)
        assert list(letters) == [email_of(container, author).lower()]
        assert letters[email_of(container, author).lower()]["payload"]["author_name"] == "Gus"


def test_replying_to_your_own_comment_tells_only_the_subscribers(container: Container) -> None:
    author, _, post_id = a_thread(container)
    musing = new_member(container, "Muser")
    own = comment(container, musing, post_id, "A thought", notify=True, email=email_of(container, musing))
    follower = f"{unique()}@example.org"
    subscribe(container, author, post_id, follower)
    settle(container)
    second = comment(container, musing, post_id, "A second thought", own)
    settle(container)
    letters = letters_for(container, second)
    assert set(letters) == {follower} and letters[follower]["kind"] == "new_comment"


def test_letters_carry_the_whole_payload_reply_first_then_subscribers_by_address(container: Container) -> None:
    author, _, post_id = a_thread(container)
    parent_author = new_member(container, "Parent Author")
    parent = comment(container, parent_author, post_id, "Parent")
    tag = unique()
    followers = [f"{tag}-{letter}@example.org" for letter in "zbm"]
    for follower in followers:
        subscribe(container, author, post_id, follower)
    subscribe(container, author, post_id, email_of(container, parent_author))  # one letter to them, the reply
    with acting_as(author):
        container.accounts.update_profile("Renamed Author", reply_emails=True)
    replier = new_member(container, "Replier")
    answer = comment(container, replier, post_id, "A *long* reply " + "word " * 200, parent)
    settle(container)

    dispatcher = ReplyMail(container.view(ReplyMail))
    letters = dispatcher.letters_about([container.view(ReplyMail).comment(answer)])
    common = {
        "post_id": str(post_id), "post_title": "Reply mail", "comment_id": str(answer), "author_name": "Replier",
        "excerpt": letters[0].payload["excerpt"],
    }
    assert common["excerpt"].startswith("A long reply word") and common["excerpt"].endswith("…")
    assert [(letter.kind, letter.recipient) for letter in letters] == [
        ("reply", email_of(container, parent_author)), *(("new_comment", email) for email in sorted(followers))]
    assert letters[0].payload == {**common, "recipient_name": "Parent Author", "to_comment": True}
    for letter in letters[1:]:
        assert letter.payload == {**common, "email": letter.recipient}
        assert letter.key == letter_key(answer, letter.recipient)
    stored = letters_for(container, answer)
    assert {email: row["payload"] for email, row in stored.items()} == {
        letter.recipient.lower(): letter.payload for letter in letters}
    # The post's author is not subscribed and the comment answers a comment: nothing for them.
    assert email_of(container, author).lower() not in stored


def test_a_reply_to_the_post_names_the_renamed_author_and_says_so(container: Container) -> None:
    author, _, post_id = a_thread(container)
    with acting_as(author):
        container.accounts.update_profile("Renamed Author", reply_emails=True)
    guest_email = f"{unique()}@example.org"
    with acting_as(author):
        container.service(Moderation).approve_comment(
            comment(container, None, post_id, "Knock knock", name="Guest", email=guest_email))
    reply = comment(container, None, post_id, "Hello from a guest", name="Guest", email=guest_email)
    settle(container)
    letters = letters_for(container, reply)
    assert list(letters) == [email_of(container, author).lower()]
    payload = letters[email_of(container, author).lower()]["payload"]
    assert payload == {"post_id": str(post_id), "post_title": "Reply mail", "comment_id": str(reply),
                       "author_name": "Guest", "excerpt": "Hello from a guest",
                       "recipient_name": "Renamed Author", "to_comment": False}


def test_deciding_who_hears_about_a_batch_of_comments_is_one_query(container: Container) -> None:
    author, _, post_id = a_thread(container)
    parent = comment(container, new_member(container), post_id, "Parent", notify=True, email=f"{unique()}@example.org")
    answer = comment(container, new_member(container), post_id, "Answer", parent)
    second = comment(container, new_member(container), post_id, "Another answer", parent)
    settle(container)
    view = ReplyMail.view_class(datastore=container.datastore, tracking_table_name=f"{ReplyMail.name}_tracking")
    found = [view.comment(answer), view.comment(second)]
    queries: list[str] = []
    reads = view.rows
    view.rows = lambda sql, params=None: queries.append(sql) or reads(sql, params)  # type: ignore[method-assign]
    assert len(ReplyMail(view).letters_about(found)) == 4
    assert len(queries) == 1
