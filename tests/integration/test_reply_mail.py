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
from cookout.platform.runtime import Runtime
from cookout.projections.reply_mail import ReplyMail, letter_key
from cookout.workers import mail
from tests.conversation_helpers import acting_as, comment, new_member, new_post, new_tribe, settle
from tests.helpers import rebuilding, unique


def email_of(runtime: Runtime, member_id: UUID) -> str:
    return runtime.accounts.get_member(member_id).email


def letters_for(runtime: Runtime, comment_id: UUID) -> dict[str, dict[str, Any]]:
    rows = runtime.outbox.rows("SELECT * FROM outbox WHERE key LIKE %(k)s", {"k": f"conversation:{comment_id}:%"})
    return {row["recipient"].lower(): row for row in rows}


def a_thread(runtime: Runtime) -> tuple[UUID, UUID, UUID]:
    author = new_member(runtime, "Post Author")
    tribe_id, _ = new_tribe(runtime, author)
    return author, tribe_id, new_post(runtime, author, tribe_id, "Reply mail")


def test_a_reply_emails_the_author_it_answers_with_a_link_and_never_the_replier(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    replier = new_member(runtime, "Quick Replier")
    first = comment(runtime, replier, post_id, "First!")
    answer = comment(runtime, author, post_id, "Welcome, *friend*", first)
    settle(runtime)

    to_post_author = letters_for(runtime, first)
    assert list(to_post_author) == [email_of(runtime, author).lower()]
    assert to_post_author[email_of(runtime, author).lower()]["kind"] == "reply"
    to_replier = letters_for(runtime, answer)
    assert list(to_replier) == [email_of(runtime, replier).lower()]

    sent: list[EmailMessage] = []
    key = letter_key(answer, email_of(runtime, replier))
    assert mail.deliver_letter(runtime.outbox, runtime.settings, key, lambda m, k: sent.append(m)) == "sent"
    assert mail.deliver_letter(runtime.outbox, runtime.settings, key, lambda m, k: sent.append(m)) == "skipped"
    assert len(sent) == 1
    text = sent[0].get_body(("plain",)).get_content()
    assert f"{runtime.settings.base_url}/p/{post_id}#c-{answer}" in text
    assert "Post Author replied to your comment" in sent[0]["Subject"]
    assert "Welcome, friend" in text


def test_talking_to_yourself_sends_nothing(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    own = comment(runtime, author, post_id, "Note to self")
    comment(runtime, author, post_id, "Another note", own)
    settle(runtime)
    assert letters_for(runtime, own) == {}


def test_members_who_turned_reply_emails_off_get_none(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    with acting_as(author):
        runtime.accounts.update_profile("Post Author", reply_emails=False)
    settle(runtime)
    reply = comment(runtime, new_member(runtime), post_id, "Hello?")
    settle(runtime)
    assert letters_for(runtime, reply) == {}


def test_subscribers_get_one_letter_per_visible_comment_with_one_click_unsubscribe(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    author, _, post_id = a_thread(runtime)
    follower = f"{unique()}@example.org"
    comment(runtime, None, post_id, "Following along", name="Fay", email=follower, notify=True)
    with acting_as(author):
        runtime.service(Threads).subscribe(post_id, follower)  # twice changes nothing
    talker = new_member(runtime, "Talker")
    news = comment(runtime, talker, post_id, "Some news")
    settle(runtime)
    letter = letters_for(runtime, news)[follower]
    assert letter["kind"] == "new_comment"

    sent: list[EmailMessage] = []
    mail.deliver_letter(runtime.outbox, runtime.settings, letter["key"], lambda m, k: sent.append(m))
    unsubscribe = sent[0]["List-Unsubscribe"].strip("<>")
    assert sent[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in sent[0].get_body(("plain",)).get_content()
    path = unsubscribe.removeprefix(runtime.settings.base_url)
    assert "Unsubscribe" in client.get(path).text
    # A mail client's one-click POST carries no CSRF token; the signed link is enough.
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "unsubscribed" in one_click.text
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.get(path.rstrip("/") + "x").status_code == 404

    later = comment(runtime, talker, post_id, "More news")
    settle(runtime)
    assert follower not in letters_for(runtime, later)


def test_a_held_comment_notifies_when_approved_and_only_once(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    follower = f"{unique()}@example.org"
    comment(runtime, new_member(runtime), post_id, "Subscribed member", email=follower, notify=True)
    held = comment(runtime, None, post_id, "Guest words", name="Gil", email=f"{unique()}@example.org")
    settle(runtime)
    assert letters_for(runtime, held) == {}

    moderation = runtime.service(Moderation)
    with acting_as(author):
        moderation.approve_comment(held)
        moderation.hide_comment(held, "Second thoughts")
        moderation.approve_comment(held)
    settle(runtime)
    letters = letters_for(runtime, held)
    assert set(letters) == {follower, email_of(runtime, author).lower()}
    assert runtime.outbox.rows("SELECT count(*) AS n FROM outbox WHERE key LIKE %(k)s",
                               {"k": f"conversation:{held}:%"}) == [{"n": 2}]


def test_a_guest_is_never_emailed_about_their_own_comment(runtime: Runtime) -> None:
    _, _, post_id = a_thread(runtime)
    guest = f"{unique()}@example.org"
    own = comment(runtime, None, post_id, "My own words", name="Gia", email=guest, notify=True)
    settle(runtime)
    assert guest not in letters_for(runtime, own)


def test_replaying_the_log_sends_no_second_letter(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    reply = comment(runtime, new_member(runtime), post_id, "Replayed")
    settle(runtime)
    key = letter_key(reply, email_of(runtime, author))
    mail.deliver_letter(runtime.outbox, runtime.settings, key, lambda m, k: None)
    with rebuilding(runtime) as other:
        rebuild(other, ReplyMail)
    assert runtime.outbox.rows("SELECT status FROM outbox WHERE key = %(k)s", {"k": key}) == [{"status": "sent"}]


def test_someone_who_left_a_members_only_tribe_hears_nothing_more_from_it(runtime: Runtime) -> None:
    founder = new_member(runtime, "Founder")
    tribe_id, _ = new_tribe(runtime, founder, visibility="members")
    leaver = new_member(runtime, "Leaver")
    tribes = runtime.service(Tribes)
    with acting_as(founder):
        tribes.admit_member(tribe_id, leaver)
    post_id = new_post(runtime, founder, tribe_id)
    theirs = comment(runtime, leaver, post_id, "Keep me posted", notify=True, email=email_of(runtime, leaver))
    with acting_as(leaver):
        tribes.leave_tribe(tribe_id)
    reply = comment(runtime, founder, post_id, "A private answer", theirs)
    settle(runtime)
    assert email_of(runtime, leaver).lower() not in letters_for(runtime, reply)


def test_replaying_the_log_follows_the_reply_setting_as_it_was_then(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    with acting_as(author):
        runtime.accounts.update_profile("Post Author", reply_emails=False)
    first = comment(runtime, new_member(runtime, "Replier"), post_id, "Hello")
    with acting_as(author):
        runtime.accounts.update_profile("Post Author", reply_emails=True)
    settle(runtime)
    assert letters_for(runtime, first) == {}
    with rebuilding(runtime) as other:
        rebuild(other, ReplyMail)
    assert letters_for(runtime, first) == {}


# Who hears about a comment, case by case: each pins what announcements() decides.

def subscribe(runtime: Runtime, as_member: UUID, post_id: UUID, email: str) -> None:
    with acting_as(as_member):
        runtime.service(Threads).subscribe(post_id, email)


def test_a_reply_to_a_comment_whose_author_turned_reply_emails_off_only_reaches_subscribers(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    quiet = new_member(runtime, "Quiet One")
    theirs = comment(runtime, quiet, post_id, "Do not write back")
    follower = f"{unique()}@example.org"
    subscribe(runtime, author, post_id, follower)
    with acting_as(quiet):
        runtime.accounts.update_profile("Quiet One", reply_emails=False)
    settle(runtime)
    answer = comment(runtime, new_member(runtime, "Replier"), post_id, "Writing back anyway", theirs)
    settle(runtime)
    letters = letters_for(runtime, answer)
    assert set(letters) == {follower}  # not the quiet one; not the post's author, whose post it doesn't answer
    assert letters[follower]["kind"] == "new_comment"


def test_reply_emails_off_still_leaves_the_subscription_and_on_means_one_reply_letter(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    reader = new_member(runtime, "Reader")
    address = email_of(runtime, reader)
    first = comment(runtime, reader, post_id, "Subscribing", notify=True, email=address)
    answer = comment(runtime, author, post_id, "Thanks", first)
    settle(runtime)
    letters = letters_for(runtime, answer)
    assert list(letters) == [address.lower()] and letters[address.lower()]["kind"] == "reply"

    with acting_as(reader):

        runtime.accounts.update_profile("Reader", reply_emails=False)
    settle(runtime)
    again = comment(runtime, author, post_id, "Thanks again", first)
    settle(runtime)
    letters = letters_for(runtime, again)
    assert list(letters) == [address.lower()] and letters[address.lower()]["kind"] == "new_comment"


def test_in_a_members_only_tribe_only_members_who_stayed_hear_of_replies(runtime: Runtime) -> None:
    founder = new_member(runtime, "Founder")
    tribe_id, _ = new_tribe(runtime, founder, visibility="members")
    stayer, leaver, poster = new_member(runtime, "Stayer"), new_member(runtime, "Leaver"), new_member(runtime, "Poster")
    tribes = runtime.service(Tribes)
    with acting_as(founder):
        for member in (stayer, leaver, poster):
            tribes.admit_member(tribe_id, member)
    post_id = new_post(runtime, poster, tribe_id)
    from_stayer = comment(runtime, stayer, post_id, "Staying")
    from_leaver = comment(runtime, leaver, post_id, "Going")  # no subscription
    for gone in (leaver, poster):
        with acting_as(gone):
            tribes.leave_tribe(tribe_id)
    to_stayer = comment(runtime, founder, post_id, "Good", from_stayer)
    to_leaver = comment(runtime, founder, post_id, "Bye", from_leaver)
    to_post = comment(runtime, stayer, post_id, "Where did the poster go?")
    settle(runtime)
    letters = letters_for(runtime, to_stayer)
    assert list(letters) == [email_of(runtime, stayer).lower()]
    assert letters[email_of(runtime, stayer).lower()]["payload"]["to_comment"] is True
    assert letters_for(runtime, to_leaver) == {}
    assert letters_for(runtime, to_post) == {}


def test_a_subscriber_who_comments_is_not_told_of_their_own_comment_whatever_the_case(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    talker = new_member(runtime, "Talker")
    address = email_of(runtime, talker)
    local, domain = address.split("@")
    subscribe(runtime, author, post_id, f"{local.upper()}@{domain}")
    other = f"{unique()}@example.org"
    subscribe(runtime, author, post_id, other)
    news = comment(runtime, talker, post_id, "My own news")
    settle(runtime)
    letters = letters_for(runtime, news)
    assert set(letters) == {email_of(runtime, author).lower(), other}
    assert letters[email_of(runtime, author).lower()]["kind"] == "reply"
    assert letters[other]["kind"] == "new_comment"


def test_a_guest_with_a_subscribed_address_is_not_told_of_their_own_comment(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    local = unique()
    subscribe(runtime, author, post_id, f"{local.capitalize()}@example.org")
    held = comment(runtime, None, post_id, "Guest words", name="Gus", email=f"{local}@example.org")
    settle(runtime)
    assert letters_for(runtime, held) == {}
    with acting_as(author):
        runtime.service(Moderation).approve_comment(held)
    later = comment(runtime, None, post_id, "Now I skip the queue", name="Gus", email=f"{local}@example.org")
    settle(runtime)
    for said in (held, later):
        letters = letters_for(runtime, said)
        assert list(letters) == [email_of(runtime, author).lower()]
        assert letters[email_of(runtime, author).lower()]["payload"]["author_name"] == "Gus"


def test_replying_to_your_own_comment_tells_only_the_subscribers(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    musing = new_member(runtime, "Muser")
    own = comment(runtime, musing, post_id, "A thought", notify=True, email=email_of(runtime, musing))
    follower = f"{unique()}@example.org"
    subscribe(runtime, author, post_id, follower)
    settle(runtime)
    second = comment(runtime, musing, post_id, "A second thought", own)
    settle(runtime)
    letters = letters_for(runtime, second)
    assert set(letters) == {follower} and letters[follower]["kind"] == "new_comment"


def test_letters_carry_the_whole_payload_reply_first_then_subscribers_by_address(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    parent_author = new_member(runtime, "Parent Author")
    parent = comment(runtime, parent_author, post_id, "Parent")
    tag = unique()
    followers = [f"{tag}-{letter}@example.org" for letter in "zbm"]
    for follower in followers:
        subscribe(runtime, author, post_id, follower)
    subscribe(runtime, author, post_id, email_of(runtime, parent_author))  # one letter to them, the reply
    with acting_as(author):
        runtime.accounts.update_profile("Renamed Author", reply_emails=True)
    replier = new_member(runtime, "Replier")
    answer = comment(runtime, replier, post_id, "A *long* reply " + "word " * 200, parent)
    settle(runtime)

    dispatcher = ReplyMail(runtime.view(ReplyMail))
    letters = dispatcher.announcements(runtime.view(ReplyMail).comment(answer))
    common = {
        "post_id": str(post_id), "post_title": "Reply mail", "comment_id": str(answer), "author_name": "Replier",
        "excerpt": letters[0].payload["excerpt"],
    }
    assert common["excerpt"].startswith("A long reply word") and common["excerpt"].endswith("…")
    assert [(letter.kind, letter.recipient) for letter in letters] == [
        ("reply", email_of(runtime, parent_author)), *(("new_comment", email) for email in sorted(followers))]
    assert letters[0].payload == {**common, "recipient_name": "Parent Author", "to_comment": True}
    for letter in letters[1:]:
        assert letter.payload == {**common, "email": letter.recipient}
        assert letter.key == letter_key(answer, letter.recipient)
    stored = letters_for(runtime, answer)
    assert {email: row["payload"] for email, row in stored.items()} == {
        letter.recipient.lower(): letter.payload for letter in letters}
    # The post's author is not subscribed and the comment answers a comment: nothing for them.
    assert email_of(runtime, author).lower() not in stored


def test_a_reply_to_the_post_names_the_renamed_author_and_says_so(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    with acting_as(author):
        runtime.accounts.update_profile("Renamed Author", reply_emails=True)
    guest_email = f"{unique()}@example.org"
    with acting_as(author):
        runtime.service(Moderation).approve_comment(
            comment(runtime, None, post_id, "Knock knock", name="Guest", email=guest_email))
    reply = comment(runtime, None, post_id, "Hello from a guest", name="Guest", email=guest_email)
    settle(runtime)
    letters = letters_for(runtime, reply)
    assert list(letters) == [email_of(runtime, author).lower()]
    payload = letters[email_of(runtime, author).lower()]["payload"]
    assert payload == {"post_id": str(post_id), "post_title": "Reply mail", "comment_id": str(reply),
                       "author_name": "Guest", "excerpt": "Hello from a guest",
                       "recipient_name": "Renamed Author", "to_comment": False}


def test_deciding_who_hears_about_a_comment_is_one_query(runtime: Runtime) -> None:
    author, _, post_id = a_thread(runtime)
    parent = comment(runtime, new_member(runtime), post_id, "Parent", notify=True, email=f"{unique()}@example.org")
    answer = comment(runtime, new_member(runtime), post_id, "Answer", parent)
    settle(runtime)
    view = ReplyMail.view_class(datastore=runtime.datastore, tracking_table_name=f"{ReplyMail.name}_tracking")
    found = view.comment(answer)
    queries: list[str] = []
    reads = view.rows
    view.rows = lambda sql, params=None: queries.append(sql) or reads(sql, params)  # type: ignore[method-assign]
    assert len(ReplyMail(view).announcements(found)) == 2
    assert len(queries) == 1
