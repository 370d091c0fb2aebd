"""Tribes, posts and threaded comments through HTTP, as a browser without JavaScript uses them."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from cookout.platform.container import Container
from tests.conversation_helpers import (
    comment_id_of,
    found_tribe,
    heading,
    publish,
    reply,
    settle,
    sign_in,
    sign_out,
    signed_up,
)
from tests.helpers import post_form, unique


def test_founding_a_tribe_answers_303_to_its_page_which_the_directory_lists(client: TestClient[Any]) -> None:
    signed_up(client)
    assert client.get("/tribes/new").status_code == 200
    slug = found_tribe(client, name="Night Owls")
    tribe_page = client.get(f"/t/{slug}")
    assert tribe_page.status_code == 200
    assert "Night Owls" in tribe_page.text
    assert "1 member" in tribe_page.text
    assert f'action="/t/{slug}/posts/new"' not in tribe_page.text and f'href="/t/{slug}/posts/new"' in tribe_page.text
    assert f'href="/t/{slug}"' in client.get("/tribes").text


def test_founding_with_a_taken_or_bad_slug_keeps_what_you_typed(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    before = container.log_position()
    taken = post_form(client, "/tribes", {"name": "Copycats", "slug": slug, "nickname": "", "description": "",
                                          "visibility": "public"})
    assert taken.status_code == 422
    assert "already uses that slug" in taken.text and 'value="Copycats"' in taken.text
    bad = post_form(client, "/tribes", {"name": "Bad", "slug": "No Spaces!", "visibility": "public"})
    assert bad.status_code == 422 and "lowercase letters" in bad.text
    assert container.log_position() == before


def test_signed_out_visitors_are_sent_to_sign_in_before_founding(client: TestClient[Any]) -> None:
    response = client.get("/tribes/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/tribes/new"


def test_members_join_post_and_leave_a_public_tribe(client: TestClient[Any]) -> None:
    founder = signed_up(client)
    slug = found_tribe(client)
    sign_out(client)
    signed_up(client, "Joiner Person")
    assert "Join the owls" in client.get(f"/t/{slug}").text
    assert post_form(client, f"/t/{slug}/posts", {"title": "Too soon", "body": "Hi"}).status_code == 403
    joined = post_form(client, f"/t/{slug}/join", {})
    assert joined.status_code == 303 and joined.headers["location"] == f"/t/{slug}"
    assert "2 owls" in client.get(f"/t/{slug}").text
    post_id = publish(client, slug, "Hello owls", "Glad to be *here*.")
    assert "Hello owls" in client.get(f"/t/{slug}").text
    assert post_form(client, f"/t/{slug}/leave", {}).status_code == 303
    assert "1 member" in client.get(f"/t/{slug}").text
    assert client.get(f"/p/{post_id}").status_code == 200
    assert founder


def test_a_members_only_tribe_and_its_posts_are_not_found_for_outsiders(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client, visibility="members", name="Secret Society")
    post_id = publish(client, slug, "Our secret", "Nobody else may read this.")
    comment = reply(client, post_id, "Members only chatter")
    comment_id = comment_id_of(comment)
    sign_out(client)
    for path in (f"/t/{slug}", f"/p/{post_id}", f"/p/{post_id}/history", f"/c/{comment_id}/history",
                 f"/c/{comment_id}/reply", f"/t/{slug}/members"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Nobody else may read this" not in response.text
    assert "Secret Society" not in client.get("/tribes").text
    signed_up(client)
    before = container.log_position()
    assert reply(client, post_id, "Let me in").status_code == 404
    assert post_form(client, f"/t/{slug}/join", {}).status_code == 404
    assert client.get(f"/t/{slug}").status_code == 404
    assert container.log_position() == before


def test_an_organiser_admits_a_member_to_a_members_only_tribe_and_grants_roles(client: TestClient[Any]) -> None:
    newcomer = signed_up(client, "Newcomer Person")
    sign_out(client)
    signed_up(client)
    slug = found_tribe(client, visibility="members")
    admitted = post_form(client, f"/t/{slug}/admit", {"handle": f"@{newcomer}"})
    assert admitted.status_code == 303
    roster = client.get(f"/t/{slug}/members")
    assert "Newcomer Person" in roster.text
    member_id = re.search(r'name="member_id" value="([0-9a-f-]{36})"[^<]*>\s*<label class="sr" for="role-[^"]*">Role of Newcomer',
                          roster.text).group(1)
    assert post_form(client, f"/t/{slug}/roles", {"member_id": member_id, "role": "moderator"}).status_code == 303
    assert 'role-moderator">moderator' in client.get(f"/t/{slug}/members").text
    wrong = post_form(client, f"/t/{slug}/roles", {"member_id": member_id, "role": "king"})
    assert wrong.status_code == 422 and "Choose organiser, moderator or member" in wrong.text
    nobody = post_form(client, f"/t/{slug}/admit", {"handle": "nobody_at_all_here"})
    assert nobody.status_code == 422 and "Nobody here goes by" in nobody.text

    sign_out(client)
    sign_in(client, newcomer)
    assert client.get(f"/t/{slug}").status_code == 200
    assert client.get(f"/t/{slug}/moderation").status_code == 200
    refused = post_form(client, f"/t/{slug}/roles", {"member_id": member_id, "role": "organiser"})
    assert refused.status_code == 403


def test_a_post_renders_markdown_and_its_edits_keep_a_readable_history(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Camp plans", "We leave at **dawn**.")
    page = client.get(f"/p/{post_id}")
    assert "<strong>dawn</strong>" in page.text and "edited" not in page.text
    edited = post_form(client, f"/p/{post_id}/edit", {"title": "Camp plans, updated", "body": "We leave at **noon**."})
    assert edited.status_code == 303
    page = client.get(f"/p/{post_id}")
    assert "Camp plans, updated" in page.text
    assert f'href="/p/{post_id}/history"' in page.text and ">edited<" in page.text
    history = client.get(f"/p/{post_id}/history")
    assert "Version 2" in history.text and "Version 1" in history.text
    assert "<del>**dawn**.</del>" in history.text and "<ins>**noon**.</ins>" in history.text
    assert "<del>plans</del><ins>plans, updated</ins>" in history.text


def test_only_the_author_edits_or_retracts_a_post(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    sign_out(client)
    signed_up(client)
    assert client.get(f"/p/{post_id}/edit").status_code == 403
    assert post_form(client, f"/p/{post_id}/edit", {"title": "Mine", "body": "Now"}).status_code == 403
    assert post_form(client, f"/p/{post_id}/retract", {}).status_code == 403


def test_a_retracted_post_leaves_a_tombstone_and_its_replies_keep_their_place(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Soon retracted", "Words I regret")
    reply(client, post_id, "A reply that stays")
    assert post_form(client, f"/p/{post_id}/retract", {}).status_code == 303
    page = client.get(f"/p/{post_id}")
    assert "retracted by its author" in page.text
    assert "Words I regret" not in page.text
    assert "A reply that stays" in page.text
    assert "Comments are closed" in page.text
    assert "Soon retracted" not in client.get(f"/t/{slug}").text


def test_the_thread_heading_counts_thoughts_in_the_singular_and_plural(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Counting")
    assert heading(client.get(f"/p/{post_id}").text) == "No comments yet"
    first = comment_id_of(reply(client, post_id, "One"))
    assert heading(client.get(f"/p/{post_id}").text) == "1 thought on “Counting”"
    reply(client, post_id, "Two", first)
    assert heading(client.get(f"/p/{post_id}").text) == "2 thoughts on “Counting”"
    post_form(client, f"/c/{first}/retract", {})
    assert heading(client.get(f"/p/{post_id}").text) == "1 thought on “Counting”"


def test_replies_nest_five_deep_and_deeper_replies_sit_at_the_fifth_level(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    parent = ""
    ids = []
    for level in range(1, 8):
        response = reply(client, post_id, f"Level {level}", parent)
        assert response.status_code == 303
        parent = comment_id_of(response)
        ids.append(parent)
    page = client.get(f"/p/{post_id}").text
    for comment_id in ids:
        assert f'id="c-{comment_id}"' in page
    assert page.count('class="comment depth-5"') == 3
    assert page.count('class="comment depth-') == 7
    level_four_list = page.index(f'id="replies-{ids[3]}"')
    assert level_four_list < page.index(f'id="c-{ids[4]}"') < page.index(f'id="c-{ids[6]}"')
    assert f'id="replies-{ids[4]}"' not in page
    assert "replying to" in page


def test_the_reply_page_is_the_form_without_javascript(client: TestClient[Any]) -> None:
    signed_up(client, "First Speaker")
    slug = found_tribe(client)
    post_id = publish(client, slug)
    first = comment_id_of(reply(client, post_id, "Opening *words*"))
    page = client.get(f"/c/{first}/reply")
    assert page.status_code == 200
    assert "Reply to" in page.text and "First Speaker" in page.text and "<em>words</em>" in page.text
    assert f'name="parent_id" value="{first}"' in page.text
    assert "hx-post" not in page.text.split('class="comment-form"')[1].split(">")[0]
    answer = reply(client, post_id, "An answer", first)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/p/{post_id}#c-{comment_id_of(answer)}"


def test_a_comment_is_edited_with_every_version_kept(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "I think it's at six"))
    assert client.get(f"/c/{comment_id}/edit").status_code == 200
    assert post_form(client, f"/c/{comment_id}/edit", {"body": "I know it's at seven"}).status_code == 303
    page = client.get(f"/p/{post_id}").text
    assert "I know it's at seven" in page and f'href="/c/{comment_id}/history"' in page
    history = client.get(f"/c/{comment_id}/history").text
    assert "<del>think</del>" in history and "<ins>know</ins>" in history
    assert "<del>six</del>" in history and "<ins>seven</ins>" in history


def test_editing_or_retracting_someone_elses_comment_is_forbidden(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "Mine"))
    sign_out(client)
    signed_up(client)
    before = container.log_position()
    assert client.get(f"/c/{comment_id}/edit").status_code == 403
    assert post_form(client, f"/c/{comment_id}/edit", {"body": "Yours now"}).status_code == 403
    assert post_form(client, f"/c/{comment_id}/retract", {}).status_code == 403
    assert container.log_position() == before
    sign_out(client)
    assert post_form(client, f"/c/{comment_id}/retract", {}).status_code == 401


def test_a_guest_comment_waits_for_moderation_and_shows_only_in_the_guests_browser(
    client: TestClient[Any], app: Any
) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Open to all")
    sign_out(client)
    email = f"{unique()}@example.org"
    posted = reply(client, post_id, "Hello from a guest", name="Gus Guest", email=email, website="https://gus.example")
    assert posted.status_code == 303
    comment_id = comment_id_of(posted)
    page = client.get(f"/p/{post_id}").text
    assert "awaiting moderation" in page
    assert f'id="c-{comment_id}"' in page and "Hello from a guest" in page
    assert heading(page) == "No comments yet"
    assert f'value="{email}"' in page

    with TestClient(app=app, base_url="http://testserver.local") as stranger:
        assert "Hello from a guest" not in stranger.get(f"/p/{post_id}").text


def test_approving_a_guest_lets_their_next_comment_through_at_once(client: TestClient[Any], app: Any) -> None:
    organiser = signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Moderated")
    sign_out(client)
    email = f"{unique()}@example.org"
    held = comment_id_of(reply(client, post_id, "First visit", name="Vera", email=email))
    sign_in(client, organiser)
    queue = client.get(f"/t/{slug}/moderation").text
    assert "First visit" in queue and "held" in queue
    assert email not in queue  # the form promised the guest their address is never shown
    assert post_form(client, f"/c/{held}/approve", {}).status_code == 303
    assert "First visit" not in client.get(f"/t/{slug}/moderation").text
    sign_out(client)
    with TestClient(app=app, base_url="http://testserver.local") as guest:
        again = comment_id_of(reply(guest, post_id, "Second visit", name="Vera", email=email.upper()))
        page = guest.get(f"/p/{post_id}").text
    assert f'id="c-{again}"' in page and "awaiting moderation" not in page
    assert heading(page) == "2 thoughts on “Moderated”"


def test_a_hidden_comment_is_gone_for_others_but_its_author_sees_the_reason(client: TestClient[Any]) -> None:
    organiser = signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    sign_out(client)
    author = signed_up(client, "Loud Person")
    comment_id = comment_id_of(reply(client, post_id, "SHOUTING"))
    sign_out(client)
    sign_in(client, organiser)
    refused = post_form(client, f"/c/{comment_id}/hide", {"reason": ""})
    assert refused.status_code == 422 and "Say why" in refused.text
    assert post_form(client, f"/c/{comment_id}/hide", {"reason": "No shouting, please"}).status_code == 303
    moderator_view = client.get(f"/p/{post_id}").text  # the moderators see it, marked hidden
    assert "SHOUTING" in moderator_view and "Only its author and the moderators see it" in moderator_view
    assert "SHOUTING" in client.get(f"/t/{slug}/moderation").text  # recently removed, can be undone
    sign_out(client)
    assert "SHOUTING" not in client.get(f"/p/{post_id}").text
    sign_in(client, author)
    page = client.get(f"/p/{post_id}").text
    assert "SHOUTING" in page and "No shouting, please" in page


def test_a_flagged_comment_appears_in_the_queue_and_can_be_kept(client: TestClient[Any]) -> None:
    organiser = signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "Edgy joke"))
    sign_out(client)
    signed_up(client)
    assert client.get(f"/t/{slug}/moderation").status_code == 403
    assert post_form(client, f"/c/{comment_id}/flag", {"reason": "Not funny"}).status_code == 303
    again = post_form(client, f"/c/{comment_id}/flag", {"reason": "Still not"})
    assert again.status_code == 303
    sign_out(client)
    sign_in(client, organiser)
    queue = client.get(f"/t/{slug}/moderation").text
    assert "Edgy joke" in queue and "flagged 1×" in queue and "Not funny" in queue
    assert post_form(client, f"/c/{comment_id}/keep", {}).status_code == 303
    assert "Edgy joke" not in client.get(f"/t/{slug}/moderation").text
    assert "Edgy joke" in client.get(f"/p/{post_id}").text


def test_spam_disappears_and_the_guest_is_held_again(client: TestClient[Any], app: Any) -> None:
    organiser = signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    sign_out(client)
    email = f"{unique()}@example.org"
    first = comment_id_of(reply(client, post_id, "Fine words", name="Sly", email=email))
    sign_in(client, organiser)
    post_form(client, f"/c/{first}/approve", {})
    sign_out(client)
    spam = comment_id_of(reply(client, post_id, "Cheap watches", name="Sly", email=email))
    sign_in(client, organiser)
    assert post_form(client, f"/c/{spam}/spam", {}).status_code == 303
    assert "Marked as spam: only the moderators see it" in client.get(f"/p/{post_id}").text
    sign_out(client)
    assert "Cheap watches" not in client.get(f"/p/{post_id}").text
    with TestClient(app=app, base_url="http://testserver.local") as guest:
        reply(guest, post_id, "More watches", name="Sly", email=email)
        assert "More watches" in guest.get(f"/p/{post_id}").text
        assert "awaiting moderation" in guest.get(f"/p/{post_id}").text


def test_likes_toggle_and_are_counted(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "Like me"))
    liked = post_form(client, f"/likes/{comment_id}", {})
    assert liked.status_code == 303 and liked.headers["location"] == f"/p/{post_id}#c-{comment_id}"
    post_form(client, f"/likes/{post_id}", {})
    card = client.get(f"/p/{post_id}").text.split(f'id="card-{comment_id}"')[1]
    assert 'aria-pressed="true"' in card.split("</form>")[0]
    assert '<span class="like-count">1</span>' in card.split("</form>")[0]
    post_form(client, f"/likes/{comment_id}", {})
    card = client.get(f"/p/{post_id}").text.split(f'id="card-{comment_id}"')[1]
    assert '<span class="like-count">0</span>' in card.split("</form>")[0]
    sign_out(client)
    assert post_form(client, f"/likes/{comment_id}", {}).status_code == 401


def test_the_feed_pages_through_older_posts_without_javascript(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    for number in range(1, 13):
        publish(client, slug, f"Post number {number:02d}")
    first = client.get(f"/t/{slug}").text
    assert "Post number 12" in first and "Post number 03" in first and "Post number 02" not in first
    more = re.search(rf'href="(/t/{slug}\?before=\d+)"', first).group(1)
    second = client.get(more).text
    assert "Post number 02" in second and "Post number 01" in second and "Post number 03" not in second
    assert "Load more" not in second


def test_a_profile_shows_posts_comments_and_replies_received(client: TestClient[Any]) -> None:
    author = signed_up(client, "Profile Person")
    slug = found_tribe(client)
    post_id = publish(client, slug, "My profile post")
    mine = comment_id_of(reply(client, post_id, "My profile comment"))
    sign_out(client)
    signed_up(client, "Replying Person")
    reply(client, post_id, "A reply for the profile", mine)
    profile = client.get(f"/members/{author}").text
    assert "My profile post" in profile and "My profile comment" in profile
    assert "Replying Person" in profile and "A reply for the profile" in profile


def test_a_comment_permalink_leads_to_its_place_in_the_thread(client: TestClient[Any]) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug)
    comment_id = comment_id_of(reply(client, post_id, "Find me"))
    response = client.get(f"/c/{comment_id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/p/{post_id}#c-{comment_id}"


def test_posts_and_comments_update_the_feed_counts(client: TestClient[Any], container: Container) -> None:
    signed_up(client)
    slug = found_tribe(client)
    post_id = publish(client, slug, "Counted")
    reply(client, post_id, "One")
    reply(client, post_id, "Two")
    settle(container)
    assert "2 comments" in client.get(f"/t/{slug}").text
