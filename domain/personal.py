"""Personal data in the log, sealed with its person's own key so that deleting the key erases it.

An event is kept for good, so the fields that name a person (a member's handle, name and addresses, a
guest's name, address and website) are not written as they are: the mapper that turns events into
stored records seals them with AES-GCM under a key of that person's own, kept outside the log (see
`Keys`). Reading the log opens them again with the key, in this one place, for the services and for
every projection alike. Once the key is deleted ("crypto-shredding") they open to stand-ins instead:
"a former member", an empty address, so a replay of the log shows what the views showed after the
deletion. Events written before sealing existed carry their fields in the clear and read as before.

Each aggregate module names its personal fields with `personal(EventClass, subject, field=stand-in)`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Compressor, Cipher, Mapper, StoredEvent, Transcoder

FORMER_MEMBER = "a former member"
FORMER_GUEST = "a former guest"
SEALED = "sealed_personal_data"  # where a stored event keeps its sealed fields and whose they are
NONCE_BYTES = 12


class Keys(Protocol):
    """Each person's key, kept outside the log."""

    def key_of(self, subject: UUID, create: bool = False) -> bytes | None:
        """The subject's key (made now with `create`), or None once it was shredded."""
        ...

    def shred(self, subject: UUID) -> None:
        """Delete the subject's key for good: what it sealed can no longer be read."""
        ...


class MemoryKeys:
    """Keys in this process's memory, for services on in-memory persistence (unit tests)."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes] = {}
        self.shredded: set[UUID] = set()

    def key_of(self, subject: UUID, create: bool = False) -> bytes | None:
        if subject not in self.keys and create and subject not in self.shredded:
            self.keys[subject] = AESGCM.generate_key(bit_length=256)
        return self.keys.get(subject)

    def shred(self, subject: UUID) -> None:
        self.keys.pop(subject, None)
        self.shredded.add(subject)


def guest_subject(email: str) -> UUID:
    """Whose key seals a guest's details: one per address, as a guest has no account."""
    return uuid5(NAMESPACE_URL, f"/cookout/guest/{email.lower()}")


Subject = Callable[[dict[str, Any]], UUID | None]


def former_handle(subject: UUID) -> str:
    """A deleted member's handle: unique, and never one a person can choose (handles have no "~")."""
    return f"~{subject.hex}"


def originator(state: dict[str, Any]) -> UUID | None:
    return state["originator_id"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PersonalFields:
    subject: Subject  # whose data the fields are, from the event's state; None: nobody's, kept as is
    stand_ins: dict[str, Any]  # each field and what it reads as once its key is gone (or a function of whose)

    def gone(self, subject: UUID) -> dict[str, Any]:
        return {name: value(subject) if callable(value) else value for name, value in self.stand_ins.items()}


PERSONAL: dict[type, PersonalFields] = {}


def personal(event_class: type, subject: Subject = originator, **stand_ins: Any) -> None:
    """Declare the event's personal fields, sealed under `subject`'s key, and their stand-ins."""
    PERSONAL[event_class] = PersonalFields(subject, stand_ins)


def seal(key: bytes, subject: UUID, values: dict[str, Any]) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(values).encode(), subject.bytes)
    return base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, subject: UUID, sealed: str) -> dict[str, Any] | None:
    raw = base64.b64decode(sealed)
    try:
        opened = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject.bytes)
    except InvalidTag:
        return None
    return json.loads(opened)  # type: ignore[no-any-return]


class PersonalDataMapper(Mapper[UUID]):
    """The library's mapper, sealing the personal fields of the events `personal` names on the way into
    the log and opening them (or giving their stand-ins) on the way out."""

    def __init__(self, transcoder: Transcoder, keys: Keys, compressor: Compressor | None = None,
                 cipher: Cipher | None = None):
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.keys = keys

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        fields = PERSONAL.get(type(domain_event))
        state = vars(domain_event)
        subject = fields.subject(state) if fields else None
        if fields is None or subject is None:
            return super().to_stored_event(domain_event)
        key = self.keys.key_of(subject, create=True)
        if key is None:  # shredded already: nothing personal is written for this person again
            values = fields.gone(subject)
            sealed = None
        else:
            values = {name: state.get(name) for name in fields.stand_ins}
            sealed = seal(key, subject, values)
        kept = {name: value for name, value in state.items() if name not in fields.stand_ins}
        if sealed is None:
            kept.update(values)
        else:
            kept[SEALED] = {"subject": str(subject), "sealed": sealed}
        stored = object.__new__(type(domain_event))
        object.__setattr__(stored, "__dict__", kept)
        return super().to_stored_event(stored)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        state = vars(domain_event)
        envelope = state.pop(SEALED, None)
        if envelope is not None:
            fields = PERSONAL[type(domain_event)]
            subject = UUID(envelope["subject"])
            key = self.keys.key_of(subject)
            opened = unseal(key, subject, envelope["sealed"]) if key is not None else None
            state.update(opened if opened is not None else fields.gone(subject))
        return domain_event
