"""Personal data (PIPL): find Mandarin PII in transcripts as people say it and as
speech-to-text writes it, and mask it before anything downstream sees it.

- `numerals`: spoken numbers to digits with an offset map (cn2an).
- `entities/`: one recogniser per entity type.
- `redactor`: `Redactor` (whole calls, `qa rules explain redact`), `LiveRedactor`.
- `masks`, `config` (the rule file's `redact:` section), `audio` (redacted recordings).
"""

from qa_engine.pii.config import CustomPattern, RedactConfig
from qa_engine.pii.redactor import LiveRedactor, RedactionError, Redactor

__all__ = ["CustomPattern", "LiveRedactor", "RedactConfig", "RedactionError", "Redactor"]
