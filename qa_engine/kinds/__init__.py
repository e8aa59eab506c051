"""Rule kinds, one module each, all the same shape: a pydantic spec and a check.

Importing this package registers every kind; `rule_union()` is the discriminated
union the rule file is validated against.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from . import (  # noqa: F401  (each import registers its kind)
    interruption,
    near,
    opener,
    phrases,
    regex,
    required,
    sequence,
    silence,
    speech_rate,
    tokens,
)
from .base import CallState, Check, RuleSpec
from .registry import KINDS

__all__ = ["KINDS", "CallState", "Check", "RuleSpec", "kind_doc", "rule_union"]


def rule_union():
    """`Annotated[Union[<every spec>], discriminator="kind"]`: a wrong kind lists the valid ones."""
    specs = tuple(cls.spec_class for cls in KINDS.values())
    return Annotated[Union[specs], Field(discriminator="kind")]  # noqa: UP007


def kind_doc(kind: str) -> str:
    """The kind's documentation: its module docstring."""
    import sys

    return sys.modules[KINDS[kind].__module__].__doc__ or ""
