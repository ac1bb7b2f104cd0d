"""Caliper 1.1 Terms other than types: contexts, actions (App. A), roles (App. E), status (App. F)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACTIONS",
    "ACTION_SPELLINGS",
    "CALIPER_CONTEXT_PREFIX",
    "CALIPER_V1P1",
    "CONTEXT_ACTION_SPELLINGS",
    "CONTEXT_ROLES",
    "PROFILE_EXTENSION_CONTEXTS",
    "ROLES",
    "STATUSES",
    "SUB_ROLES",
]

CALIPER_V1P1: Final = "http://purl.imsglobal.org/ctx/caliper/v1p1"

#: Every IMS Caliper context IRI starts with this; any other than ``CALIPER_V1P1`` is unsupported.
CALIPER_CONTEXT_PREFIX: Final = "http://purl.imsglobal.org/ctx/caliper/"

#: The 2019-2020 "1.1 profile extension" contexts: not part of the 1.1 text, reported as
#: unsupported (docs/validator.md, "Profile-extension contexts").
PROFILE_EXTENSION_CONTEXTS: Final = {
    f"{CALIPER_V1P1}/{profile}-extension": profile
    for profile in (
        "FeedbackProfile",
        "ResourceManagementProfile",
        "SearchProfile",
        "SurveyProfile",
        "ToolLaunchProfile",
        "ToolUseProfile",
    )
}

ACTIONS: Final = frozenset(
    """
    Abandoned Activated Added Attached Bookmarked ChangedResolution ChangedSize ChangedSpeed
    ChangedVolume Classified ClosedPopout Commented Completed Created Deactivated Deleted Described
    DisabledClosedCaptioning Disliked EnabledClosedCaptioning Ended EnteredFullScreen ExitedFullScreen
    ForwardedTo Graded Hid Highlighted Identified JumpedTo Liked Linked LoggedIn LoggedOut
    MarkedAsRead MarkedAsUnread Modified Muted NavigatedTo OpenedPopout Paused Posted Questioned
    Ranked Recommended Removed Reset Restarted Resumed Retrieved Reviewed Rewound Searched Shared
    Showed Skipped Started Submitted Subscribed Tagged TimedOut Unmuted Unsubscribed Used Viewed
    """.split()
)

#: The v1p1 context's own spellings of two App. A actions: only warned about.
CONTEXT_ACTION_SPELLINGS: Final = {
    "EnabledCloseCaptioning": "EnabledClosedCaptioning",
    "DisabledCloseCaptioning": "DisabledClosedCaptioning",
}

#: Spellings the 1.1 text itself uses besides the App. A Term: variant -> (App. A Term, canvas-mode
#: deviation tag or None).  ``MarkedAsUnRead`` (App. B prose) is an error in strict mode.
ACTION_SPELLINGS: Final[dict[str, tuple[str, str | None]]] = {
    "MarkedAsUnRead": ("MarkedAsUnread", "S7"),
    **{variant: (term, None) for variant, term in CONTEXT_ACTION_SPELLINGS.items()},
}

_SUB_ROLES_BY_CONTEXT: Final = {
    "Administrator": "Administrator Developer ExternalDeveloper ExternalSupport ExternalSystemAdministrator Support SystemAdministrator",
    "ContentDeveloper": "ContentDeveloper ContentExpert ExternalContentExpert Librarian",
    "Instructor": (
        "ExternalInstructor Grader GuestInstructor Instructor Lecturer PrimaryInstructor SecondaryInstructor "
        "TeachingAssistant TeachingAssistantGroup TeachingAssistantOffering TeachingAssistantSection "
        "TeachingAssistantTemplate"
    ),
    "Learner": "ExternalLearner GuestLearner Learner NonCreditLearner",
    # Manager#Manager: added by the 2018 errata (App. H), missing from the context and the schemas.
    "Manager": "AreaManager CourseCoordinator ExternalObserver Manager Observer",
    "Member": "Member",
    "Mentor": (
        "Advisor Auditor ExternalAdvisor ExternalAuditor ExternalLearningFacilitator ExternalMentor "
        "ExternalReviewer ExternalTutor LearningFacilitator Mentor Reviewer Tutor"
    ),
    "Officer": "Chair Secretary Treasurer Vice-Chair",
}

CONTEXT_ROLES: Final = frozenset(_SUB_ROLES_BY_CONTEXT)

#: sub-role Term -> its context role (``Instructor#TeachingAssistant`` -> ``Instructor``)
SUB_ROLES: Final = {
    f"{context}#{sub}": context for context, subs in _SUB_ROLES_BY_CONTEXT.items() for sub in subs.split()
}

ROLES: Final = CONTEXT_ROLES | frozenset(SUB_ROLES)

STATUSES: Final = frozenset({"Active", "Inactive"})
