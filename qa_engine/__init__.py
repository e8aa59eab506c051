"""Call QA engine for Mandarin customer service (智能质检): rules, scoring, explainable reports."""

__version__ = "0.1.0"

from qa_engine.engine import Engine, Session  # noqa: E402
from qa_engine.models import CallReport, CallTranscript, Finding, Utterance  # noqa: E402
from qa_engine.rulefile import RuleFileError, RuleSet, load_rules, load_rules_text  # noqa: E402

__all__ = [
    "CallReport",
    "CallTranscript",
    "Engine",
    "Finding",
    "RuleFileError",
    "RuleSet",
    "Session",
    "Utterance",
    "__version__",
    "load_rules",
    "load_rules_text",
]
