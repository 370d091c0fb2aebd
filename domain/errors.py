"""Domain errors: one small hierarchy, mapped once to HTTP statuses by the web layer."""


class DomainError(Exception):
    """A rule of the tribe was broken; the message is shown to the person as it is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """What was asked makes no sense (422)."""


class Conflict(DomainError):
    """What was asked clashes with what already is: a taken email, a full meetup (409)."""


class NotFound(DomainError):
    """There is no such thing, or the asker may not know it exists (404)."""


class Forbidden(DomainError):
    """The asker may not do this (403)."""


class NotAllowedNow(DomainError):
    """Allowed in general, not in this state: a retracted comment, a past meetup (409)."""
