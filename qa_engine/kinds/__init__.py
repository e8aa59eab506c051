"""Rule kinds, one module each, all the same shape: a pydantic spec and a check.

Adding a kind is adding one module here: every module of this package (but `base` and
`registry`) is imported by `discover()`, and its `@register`ed check becomes a kind.
`rule_union()` is the discriminated union the rule file is validated against.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated, Union

from pydantic import Field

from qa_engine.kinds.base import CallState, Check, RuleSpec, RuleWarning, SpeakerSpec, SpecError
from qa_engine.kinds.registry import KINDS, match_mode_labels, register

__all__ = [
    "KINDS",
    "CallState",
    "Check",
    "RuleSpec",
    "RuleWarning",
    "SpeakerSpec",
    "SpecError",
    "discover",
    "kind_doc",
    "kind_modules",
    "match_mode_labels",
    "register",
    "rule_union",
]

_SHARED = frozenset({"base", "registry"})


def kind_modules() -> list[str]:
    """The full names of the modules in this package that define kinds."""
    return [
        f"{__name__}.{module.name}"
        for module in pkgutil.iter_modules(__path__)
        if module.name not in _SHARED and not module.name.startswith("_")
    ]


def discover() -> None:
    """Import every kind module, so each registers its kind."""
    for name in kind_modules():
        importlib.import_module(name)


def rule_union():
    """`Annotated[Union[<every spec>], discriminator="kind"]`: a wrong kind lists the valid ones."""
    specs = tuple(cls.spec_class for cls in KINDS.values())
    return Annotated[Union[specs], Field(discriminator="kind")]  # noqa: UP007


def kind_doc(kind: str) -> str:
    """The kind's documentation: its module docstring."""
    return sys.modules[KINDS[kind].__module__].__doc__ or ""


discover()
