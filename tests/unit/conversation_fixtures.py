"""What the conversation unit tests share: the four conversation services on one store, and acting as a member."""

from dataclasses import dataclass
from uuid import UUID

from cookout.domain.base import current_actor
from cookout.domain.community import Tribes
from cookout.domain.moderating import Moderation
from cookout.domain.reacting import Reactions
from cookout.domain.reactions import Like
from cookout.domain.threads import Threads

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@dataclass
class Community:
    """Tribes, threads, moderation and reactions recording into one in-memory log, as they share one in production."""

    tribes: Tribes
    threads: Threads
    moderation: Moderation
    reactions: Reactions

    @classmethod
    def in_memory(cls) -> "Community":
        tribes = Tribes(env=IN_MEMORY)
        shared = {"env": IN_MEMORY, "recorder": tribes.recorder, "keys": tribes.keys}
        return cls(tribes, Threads(**shared), Moderation(**shared), Reactions(**shared))


def act_as(member: UUID) -> None:
    """Later commands in this test run as `member` (the autouse fixture resets it)."""
    current_actor.set(str(member))


def liked(app: Community, member: UUID, target_id: UUID) -> bool:
    """Whether `member` likes this post or comment now, as the like's own stream says."""
    like = app.reactions._find(Like.create_id(member, target_id))
    return like is not None and like.liked
