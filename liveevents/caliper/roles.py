"""Canvas context roles → Caliper membership roles (``canvas-to-caliper.md`` §4.11).

By default exactly Instructure's two evidenced mappings; an operator may add (or override)
entries, with values from the Caliper 1.1 role vocabulary (SPEC App. E).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

__all__ = ["CALIPER_ROLES", "DEFAULT_ROLE_MAP", "SUGGESTED_ROLE_MAP", "compile_role_map"]

_SUB_ROLES: Final = {
    "Administrator": ("Administrator", "Developer", "ExternalDeveloper", "ExternalSupport", "ExternalSystemAdministrator", "Support", "SystemAdministrator"),
    "ContentDeveloper": ("ContentDeveloper", "ContentExpert", "ExternalContentExpert", "Librarian"),
    "Instructor": (
        "ExternalInstructor", "Grader", "GuestInstructor", "Instructor", "Lecturer", "PrimaryInstructor",
        "SecondaryInstructor", "TeachingAssistant", "TeachingAssistantGroup", "TeachingAssistantOffering",
        "TeachingAssistantSection", "TeachingAssistantTemplate",
    ),
    "Learner": ("ExternalLearner", "GuestLearner", "Learner", "NonCreditLearner"),
    "Manager": ("AreaManager", "CourseCoordinator", "ExternalObserver", "Manager", "Observer"),
    "Member": ("Member",),
    "Mentor": (
        "Advisor", "Auditor", "ExternalAdvisor", "ExternalAuditor", "ExternalLearningFacilitator", "ExternalMentor",
        "ExternalReviewer", "ExternalTutor", "LearningFacilitator", "Mentor", "Reviewer", "Tutor",
    ),
    "Officer": ("Chair", "Secretary", "Treasurer", "Vice-Chair"),
}  # fmt: skip

#: The 8 context roles and 49 ``Context#Sub`` roles of Caliper 1.1 (SPEC App. E).
CALIPER_ROLES: Final = frozenset(_SUB_ROLES) | frozenset(f"{context}#{sub}" for context, subs in _SUB_ROLES.items() for sub in subs)

#: Canvas ``context_role`` → Caliper roles. Anything else gives no ``roles`` and the id segment ``user``.
DEFAULT_ROLE_MAP: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"TeacherEnrollment": ("Instructor",), "StudentEnrollment": ("Learner",)}
)

#: A suggested extra map (not evidenced by Instructure; opt-in).
SUGGESTED_ROLE_MAP: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "TaEnrollment": ("Instructor#TeachingAssistant", "Instructor"),
        "DesignerEnrollment": ("ContentDeveloper",),
        "ObserverEnrollment": ("Mentor",),
    }
)



def compile_role_map(extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The default map plus ``extra``; raises ``ValueError`` for a role outside the vocabulary.

    The membership id segment is the first role's context role (``Instructor#TeachingAssistant``
    → ``Instructor``), as ``Instructor``/``Learner`` are for the default entries.
    """
    merged: dict[str, tuple[str, ...]] = dict(DEFAULT_ROLE_MAP)
    for context_role, roles in (extra or {}).items():
        if isinstance(roles, str):
            raise ValueError(f"role map entry {context_role!r}: give a list of Caliper roles, not the string {roles!r}")
        roles = tuple(roles)
        unknown = [role for role in roles if role not in CALIPER_ROLES]
        if not roles or unknown:
            raise ValueError(
                f"role map entry {context_role!r}: {unknown or 'no roles'} — each role must be a Caliper 1.1 role "
                "(SPEC App. E), e.g. 'Instructor', 'Learner', 'Instructor#TeachingAssistant', 'Mentor'"
            )
        merged[context_role] = roles
    return {context_role: (roles[0].split("#", 1)[0], roles) for context_role, roles in merged.items()}
