"""Who acted: the Caliper ``actor`` (``canvas-to-caliper.md`` §4.4, §4.5).

An actor rule returns the actor and, when the actor is a Person with a real Canvas user id,
that id (a membership needs it; ``user:0`` and SoftwareApplication actors get no membership).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liveevents.caliper.origin import is_request
from liveevents.caliper.shapes import Body, Entity
from liveevents.caliper.values import USER_URN, canvas_id, urn
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS

__all__ = ["ACCOUNT_FIELDS", "PERSON_FIELDS", "ActorRule", "UNKNOWN_USER", "person", "software_application", "standard_actor"]

#: ``(metadata, body, edApp id) -> (actor, member user id or None)``
ActorRule = Callable[[Body, Body, str], tuple[Entity, str | None]]

#: The OVERVIEW's Person for "clearly initiated by a user, but Canvas cannot determine the user's id".
UNKNOWN_USER = urn("user", "0")

ACCOUNT_FIELDS = ("root_account_id", "root_account_lti_guid", "root_account_uuid")
PERSON_FIELDS = ("user_login", "user_sis_id", *ACCOUNT_FIELDS)


def person(user_id: str, metadata: Body, fields: tuple[str, ...] = PERSON_FIELDS) -> Entity:
    """A Person with Canvas's actor extensions: ``fields`` from metadata, then entity_id, then
    (masquerade) real_user_id — documented but never exemplified, so appended last (T29)."""
    extensions: dict[str, Any] = {}
    get = metadata.get
    for key in fields:
        value = get(key)
        if value is not None:
            extensions[key] = value
    extensions["entity_id"] = user_id
    real_user_id = get("real_user_id")
    if real_user_id is not None:
        extensions["real_user_id"] = canvas_id(real_user_id, "metadata.real_user_id")
    return {"id": USER_URN + user_id, "type": "Person", "extensions": {CANVAS_EXTENSIONS: extensions}}


def software_application(app_id: str) -> Entity:
    return {"id": app_id, "type": "SoftwareApplication"}


def standard_actor(*, body_actor: bool, person_required: bool) -> ActorRule:
    """The decision order of §4.4, first match wins:

    1. ``metadata.user_id`` → that Person;
    2. ``body_actor`` events (the body names the acting user) → ``body.user_id`` as a Person
       with the root-account extensions only (the metadata has no user fields);
    3. a request event whose Caliper type requires a Person → the ``user:0`` Person;
    4. otherwise Canvas itself: the edApp as a SoftwareApplication (also every job event).
    """

    def actor(metadata: Body, body: Body, app_id: str) -> tuple[Entity, str | None]:
        user_id = metadata.get("user_id")
        if user_id is not None:
            if type(user_id) is not str or not user_id.isalnum():  # digits: no call needed
                user_id = canvas_id(user_id, "metadata.user_id")
            return person(user_id, metadata), user_id
        if body_actor:
            user_id = body.get("user_id")
            if user_id is not None:
                user_id = canvas_id(user_id, "body.user_id")
                return person(user_id, metadata, ACCOUNT_FIELDS), user_id
        if person_required and is_request(metadata):
            return {"id": UNKNOWN_USER, "type": "Person"}, None
        return software_application(app_id), None

    return actor
