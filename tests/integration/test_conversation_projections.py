"""The conversation read models on Postgres: what each holds, and that a rebuild gives the same rows."""

from __future__ import annotations

import pytest

from cookout.domain.community import Tribes
from cookout.domain.moderating import Moderation
from cookout.domain.reacting import Reactions
from cookout.domain.threads import Threads
from cookout.platform.cli import rebuild
from cookout.platform.container import Container
from cookout.projections.activity import COMMENT, POST, REPLY, MemberActivity
from cookout.projections.feed import TribeFeed
from cookout.projections.members import MemberDirectory
from cookout.projections.moderation import ModerationQueue
from cookout.projections.thread import ThreadTree, arrange, visible_count
from cookout.projections.tribes import TribeDirectory
from tests.conversation_helpers import acting_as, comment, new_member, new_post, new_tribe, settle
from tests.helpers import rebuilding, unique


def test_tribe_directory_follows_founding_joining_roles_and_leaving(container: Container) -> None:
    founder, joiner = new_member(container), new_member(container)
    tribe_id, slug = new_tribe(container, founder)
    tribes = container.service(Tribes)
    with acting_as(joiner):
        tribes.join_tribe(tribe_id)
    with acting_as(founder):
        tribes.grant_role(tribe_id, joiner, "moderator")
    settle(container)
    directory = container.view(TribeDirectory)
    assert directory.by_slug(slug)["member_count"] == 2
    assert [(m["member_id"], m["role"]) for m in directory.members(tribe_id)] == [
        (founder, "organiser"), (joiner, "moderator")]

    with acting_as(joiner):
        tribes.leave_tribe(tribe_id)
    settle(container)
    assert directory.by_slug(slug)["member_count"] == 1
    assert directory.role_of(tribe_id, joiner) is None


def test_members_only_tribes_are_listed_only_for_their_members(container: Container) -> None:
    founder, outsider = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, founder, visibility="members")
    settle(container)
    directory = container.view(TribeDirectory)
    assert tribe_id in [t["id"] for t in directory.readable_by(founder)]
    assert tribe_id not in [t["id"] for t in directory.readable_by(outsider)]
    assert tribe_id not in [t["id"] for t in directory.readable_by(None)]


def test_feed_is_newest_first_and_counts_only_visible_comments(container: Container) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    older = new_post(container, author, tribe_id, "Older")
    newer = new_post(container, author, tribe_id, "Newer")
    kept = comment(container, author, newer, "Visible one")
    comment(container, None, newer, "A guest, held", name="Guest", email=f"{unique()}@example.org")
    retracted = comment(container, author, newer, "Soon gone")
    with acting_as(author):
        container.service(Threads).retract_comment(retracted)
    settle(container)

    page = container.view(TribeFeed).page(tribe_id)
    assert [p["id"] for p in page] == [newer, older]
    assert page[0]["comment_count"] == 1
    assert page[0]["last_activity"] >= page[0]["published_at"]
    assert [p["id"] for p in container.view(TribeFeed).page(tribe_id, before=page[0]["position"])] == [older]
    assert kept


def test_feed_count_moves_by_one_as_comments_are_approved_hidden_and_retracted(container: Container) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    held = comment(container, None, post_id, "A guest, held", name="Guest", email=f"{unique()}@example.org")
    shown = comment(container, author, post_id, "Shown")
    threads = container.service(Threads)
    moderation = container.service(Moderation)

    def count() -> int:
        settle(container)
        return container.view(TribeFeed).page(tribe_id)[0]["comment_count"]

    assert count() == 1
    with acting_as(author):
        moderation.approve_comment(held)
    assert count() == 2
    with acting_as(author):
        moderation.hide_comment(held, "Off topic")
    assert count() == 1
    with acting_as(author):
        threads.retract_comment(shown)
    assert count() == 0


def test_thread_keeps_every_version_status_and_like(container: Container) -> None:
    author, fan = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    first = comment(container, author, post_id, "First *thought*")
    threads = container.service(Threads)
    reactions = container.service(Reactions)
    with acting_as(author):
        threads.edit_comment(first, "First **thought**, edited")
    with acting_as(fan):
        reactions.toggle_like(first)
        reactions.toggle_like(post_id)
        reactions.toggle_like(post_id)
    settle(container)

    thread = container.view(ThreadTree)
    row = thread.comment(first)
    assert row["versions"] == 2 and row["edited_at"] is not None
    assert "<strong>thought</strong>" in row["body_html"]
    assert [v["body"] for v in thread.versions(first, 20)] == ["First **thought**, edited", "First *thought*"]
    assert row["like_count"] == 1
    assert thread.post(post_id)["like_count"] == 0
    assert thread.liked_by(fan, [first, post_id]) == {first}


def test_replies_nest_five_deep_then_sit_beside_their_parent(container: Container) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    parent = None
    chain = []
    for level in range(7):
        parent = comment(container, author, post_id, f"Level {level + 1}", parent)
        chain.append(parent)
    settle(container)

    rows = container.view(ThreadTree).comments(post_id)
    assert [r["depth"] for r in rows] == [1, 2, 3, 4, 5, 5, 5]
    tree = arrange(rows)
    level_four = tree[0].children[0].children[0].children[0]
    assert [n.comment["id"] for n in level_four.children] == chain[4:]
    assert level_four.children[1].answers["id"] == chain[4]
    assert visible_count(rows) == 7


def test_each_comment_carries_the_number_of_its_top_level_comment_and_a_view_made_before_gets_them(
        container: Container) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    post_id = new_post(container, author, tribe_id)
    first = comment(container, author, post_id, "One")
    second = comment(container, author, post_id, "Two")
    answer = comment(container, author, post_id, "Re one", first)
    deeper = comment(container, author, post_id, "Re re one", answer)
    third = comment(container, author, post_id, "Three")
    settle(container)
    thread = container.view(ThreadTree)

    def numbers() -> dict[object, int]:
        return {row["id"]: row["top_number"] for row in thread.comments(post_id)}

    expected = {first: 1, second: 2, answer: 1, deeper: 1, third: 3}
    assert numbers() == expected
    assert thread.comment_counts(post_id)["top"] == 3
    assert [row["id"] for row in thread.comment_page(post_id, 2, 0)] == [first, second, answer, deeper]
    assert [row["id"] for row in thread.comment_page(post_id, 2, 2)] == [third]

    # A view whose tables predate the numbers (the columns just added, empty) gets them from its DDL.
    with container.datastore.transaction(commit=True) as cursor:
        cursor.execute("UPDATE thread_comments SET top_number = NULL WHERE post_id = %s", (post_id,))
        cursor.execute("UPDATE thread_posts SET top_level = 0 WHERE id = %s", (post_id,))
    thread.create_table()
    assert numbers() == expected
    assert thread.comment_counts(post_id)["top"] == 3


def test_moderation_queue_holds_pending_and_flagged_comments(container: Container) -> None:
    organiser, flagger = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, organiser)
    post_id = new_post(container, organiser, tribe_id, "Queue test")
    held = comment(container, None, post_id, "Buy cheap watches", name="Spammy", email=f"{unique()}@example.org")
    flagged = comment(container, organiser, post_id, "Rude words")
    moderation = container.service(Moderation)
    with acting_as(flagger):
        moderation.flag_comment(flagged, "Rude")
    settle(container)

    queue = container.view(ModerationQueue).queue(tribe_id)
    assert [(q["id"], q["status"], q["flag_count"]) for q in queue] == [(held, "pending", 0), (flagged, "visible", 1)]
    assert queue[1]["flag_reasons"] == ["Rude"] and queue[0]["post_title"] == "Queue test"

    with acting_as(organiser):
        moderation.mark_comment_spam(held)
        moderation.dismiss_flags(flagged)
    settle(container)
    assert container.view(ModerationQueue).queue(tribe_id) == []
    assert [r["id"] for r in container.view(ModerationQueue).recently_removed(tribe_id)] == [held]


def test_member_activity_lists_posts_comments_and_replies_received(container: Container) -> None:
    author, replier = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, author)
    secret_id, _ = new_tribe(container, author, visibility="members")
    post_id = new_post(container, author, tribe_id, "Public post")
    new_post(container, author, secret_id, "Secret post")
    mine = comment(container, author, post_id, "My own comment")
    answer = comment(container, replier, post_id, "An answer to you", mine)
    comment(container, author, post_id, "Talking to myself", mine)
    settle(container)

    activity = container.view(MemberActivity)
    assert [p["post_title"] for p in activity.of_member(author, POST, [])] == ["Public post"]
    assert [p["post_title"] for p in activity.of_member(author, POST, [secret_id])] == ["Secret post", "Public post"]
    assert [c["excerpt"] for c in activity.of_member(author, COMMENT, [])] == ["Talking to myself", "My own comment"]
    assert [(r["item_id"], r["author_id"]) for r in activity.of_member(author, REPLY, [])] == [(answer, replier)]


CONVERSATION_PROJECTIONS = (TribeDirectory, TribeFeed, ThreadTree, ModerationQueue, MemberActivity)


@pytest.mark.parametrize("projection", CONVERSATION_PROJECTIONS, ids=lambda p: p.name)
def test_rebuilding_from_the_log_gives_identical_rows(container: Container, projection: type) -> None:
    organiser, member = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, organiser)
    tribes = container.service(Tribes)
    threads = container.service(Threads)
    moderation = container.service(Moderation)
    reactions = container.service(Reactions)
    with acting_as(member):
        tribes.join_tribe(tribe_id)
    post_id = new_post(container, member, tribe_id, "Rebuilt", "Body *one*")
    with acting_as(member):
        threads.edit_post(post_id, "Rebuilt twice", "Body *two*")
    first = comment(container, organiser, post_id, "Hello")
    second = comment(container, member, post_id, "Hello back", first)
    held = comment(container, None, post_id, "Guest here", name="G", email=f"{unique()}@example.org")
    with acting_as(organiser):
        moderation.approve_comment(held)
        tribes.grant_role(tribe_id, member, "moderator")
        reactions.toggle_like(second)
    with acting_as(member):
        moderation.flag_comment(first, "Too loud")
        moderation.hide_comment(first, "Shouting")
        threads.retract_comment(second)
    settle(container)
    before = container.view(projection).snapshot()

    with rebuilding(container) as other:
        rebuild(other, projection)
        after = other.view(projection).snapshot()
    assert after == before
    assert len(after) >= 2


def test_the_home_page_list_is_the_biggest_readable_tribes_first(container: Container) -> None:
    founder, joiner = new_member(container), new_member(container)
    tribe_id, _ = new_tribe(container, founder)
    with acting_as(joiner):
        container.service(Tribes).join_tribe(tribe_id)
    settle(container)
    biggest = container.view(TribeDirectory).readable_by(None, limit=6)
    assert 0 < len(biggest) <= 6
    counts = [tribe["member_count"] for tribe in biggest]
    assert counts == sorted(counts, reverse=True)
    everyone = container.view(TribeDirectory).readable_by(None)
    assert biggest == everyone[: len(biggest)]


def test_a_tribe_read_for_a_viewer_carries_their_role_and_for_an_organiser_the_organiser_count(
        container: Container) -> None:
    founder, joiner = new_member(container), new_member(container)
    tribe_id, slug = new_tribe(container, founder)
    with acting_as(joiner):
        container.service(Tribes).join_tribe(tribe_id)
    settle(container)
    directory = container.view(TribeDirectory)
    as_founder = directory.by_slug(slug, founder)
    assert (as_founder["viewer_role"], as_founder["organiser_count"]) == ("organiser", 1)
    assert (directory.by_id(tribe_id, joiner)["viewer_role"], directory.by_id(tribe_id, joiner)["organiser_count"]) \
        == ("member", None)
    assert directory.by_slug(slug)["viewer_role"] is None


def test_the_home_page_reads_the_biggest_tribes_and_the_member_total_together(container: Container) -> None:
    founder = new_member(container)
    tribe_id, _ = new_tribe(container, founder)
    settle(container)
    # Every tribe: on a shared database other tests' bigger tribes come first.
    tribes, total = container.view(TribeDirectory).front(None, limit=1_000_000)
    assert tribe_id in [t["id"] for t in tribes] and "member_total" not in tribes[0]
    assert total == container.view(MemberDirectory).rows("SELECT count(*) AS n FROM members")[0]["n"]


def test_the_tribe_page_reads_its_posts_with_their_authors_and_the_tribes_post_count(container: Container) -> None:
    author = new_member(container)
    tribe_id, _ = new_tribe(container, author)
    for title in ("One", "Two", "Three"):
        new_post(container, author, tribe_id, title)
    settle(container)
    page = container.view(TribeFeed).front_page(tribe_id, limit=2)
    person = container.view(MemberDirectory).by_id(author)
    assert [p["title"] for p in page] == ["Three", "Two"]
    assert {(p["author_handle"], p["author_display_name"], p["post_count"]) for p in page} == {
        (person["handle"], person["display_name"], 3)}
