"""``@context`` checks (SPEC §4.1) and the terms an additional context may bring into scope.

A describe's ``@context`` is the Caliper 1.1 IRI, or an array whose last item is that IRI (its
terms win).  Additional contexts may add terms but not redefine Caliper's.  The validator does no
I/O: a remote additional context is not fetched, so any term it might define is accepted with a
warning; an inline one is read (docs/validator.md, "Additional contexts").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from liveevents.caliper.validation.model import PROPERTY_TERMS, TYPE_TERMS
from liveevents.caliper.validation.problem import pointer, show
from liveevents.caliper.validation.vocabulary import (
    ACTIONS,
    CALIPER_CONTEXT_PREFIX,
    CALIPER_V1P1,
    CONTEXT_ACTION_SPELLINGS,
    PROFILE_EXTENSION_CONTEXTS,
    ROLES,
    STATUSES,
)

__all__ = ["CALIPER_TERMS", "UNSUPPORTED", "Report", "Scope", "check_context"]

Report = Callable[..., None]

#: Terms of the v1p1 context (no inline context may redefine them), plus the App. A action spellings
#: and ``Manager#Manager`` that the context lacks (docs/validator.md).
CALIPER_TERMS: Final = (
    frozenset({"id", "type", "caliper", "lis", "xsd"})
    | TYPE_TERMS
    | PROPERTY_TERMS
    | ACTIONS
    | frozenset(CONTEXT_ACTION_SPELLINGS)
    | ROLES
    | STATUSES
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Terms in scope besides Caliper's: inline-defined ``terms``; ``open`` when a remote context
    (or ``@vocab``) might define any term."""

    terms: frozenset[str]
    open: bool

    def defines(self, term: str) -> bool:
        return self.open or term in self.terms

    def describe(self) -> str:
        return "an additional remote context" if self.open else "an additional inline context"


#: returned when the describe is not Caliper 1.1 at all: its terms mean nothing we can check
UNSUPPORTED: Final = Scope(frozenset(), open=False)


def _caliper_family(iri: str, path: str, report: Report) -> None:
    profile = PROFILE_EXTENSION_CONTEXTS.get(iri)
    if profile is not None:
        report(
            "context.unsupported",
            path,
            f"context {iri!r} is the {profile} extension, which is not part of Caliper 1.1 "
            f"(expected {CALIPER_V1P1!r}; profile-extension contexts are not supported)",
        )
    else:
        report("context.unsupported", path, f"context {iri!r} is not Caliper 1.1 (expected {CALIPER_V1P1!r})")


def check_context(value: Any, path: str, report: Report, *, nested: bool, inherited: Scope | None) -> Scope | None:
    """Check a ``@context`` value at ``path``; return the extra-term scope, or ``UNSUPPORTED``.

    ``nested`` contexts (on an entity inside a describe) need not repeat the Caliper context.
    ``None`` means "Caliper terms only".
    """
    if value == CALIPER_V1P1:
        return inherited
    items = value if isinstance(value, list) else [value]
    if not isinstance(value, (list, str, dict)):
        report("context.kind", path, f"@context is {show(value)}; expected {CALIPER_V1P1!r} or an array ending with it")
        return UNSUPPORTED
    terms: set[str] = set(inherited.terms) if inherited is not None else set()
    open_scope = inherited.open if inherited is not None else False
    caliper_at: list[int] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_path = pointer(path, index) if isinstance(value, list) else path
        if isinstance(item, str):
            if item in seen:
                report("context.duplicate", item_path, f"context {item!r} is referenced twice")
            seen.add(item)
            if item == CALIPER_V1P1:
                caliper_at.append(index)
            elif item.startswith(CALIPER_CONTEXT_PREFIX):
                _caliper_family(item, item_path, report)
                return UNSUPPORTED
            else:
                open_scope = True
        elif isinstance(item, dict):
            for term in item:
                if term in CALIPER_TERMS:
                    report(
                        "context.term-redefined",
                        pointer(item_path, term),
                        f"inline context redefines the Caliper term {term!r} (Caliper terms must not be redefined)",
                    )
                elif term == "@vocab":
                    open_scope = True
                elif isinstance(term, str) and not term.startswith("@"):
                    terms.add(term)
        else:
            report("context.kind", item_path, f"@context item is {show(item)}; expected an IRI string or an object")
    if not nested:
        if not caliper_at:
            report(
                "context.not-caliper",
                path,
                f"@context is {show(value)} without {CALIPER_V1P1!r} (expected it alone or as the last array item)",
            )
            return UNSUPPORTED
        if caliper_at[-1] != len(items) - 1:
            report(
                "context.caliper-not-last",
                pointer(path, caliper_at[-1]),
                f"{CALIPER_V1P1!r} is item {caliper_at[-1]} of {len(items)}; it must be the last so its terms win",
            )
    if not terms and not open_scope:
        return None
    return Scope(frozenset(terms), open_scope)
