"""What the conversation unit tests share: acting as a member."""

from uuid import UUID

from cookout.domain.base import current_actor


def act_as(member: UUID) -> None:
    """Later commands in this test run as `member` (the autouse fixture resets it)."""
    current_actor.set(str(member))
