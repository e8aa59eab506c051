"""The `redact:` section of a rule file.

```yaml
redact:
  enabled: true            # default; `qa score --keep-pii` turns it off for one run
  mask: label              # label: [手机号]   partial: 138****8000 (numbers only)
  entities: {vcode: false} # switch entity types off (all are on by default)
  audio: silence           # silence | tone over each span in the redacted recording
  patterns:                # your own identifiers; examples run as tests
    - id: waybill
      label: 运单号
      pattern: '7\\d{11,14}'     # on the normalised text: numerals as ASCII digits
      context: [运单, 单号]       # optional: only after one of these words
      examples: {hit: [运单号是七五三一二三四五六七八九零], miss: [首重十二元]}
```
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENTITY_NAMES = ("phone", "landline", "id_card", "bank_card", "email", "plate", "vcode", "address", "name")


class PatternExamples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hit: list[str] = Field(default_factory=list)
    miss: list[str] = Field(default_factory=list)


class CustomPattern(BaseModel):
    """An identifier of your own (waybill, order or member numbers): not PII by default."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    pattern: str = Field(description="Regex on the normalised text (numerals as ASCII digits, lower-case)")
    context: list[str] = Field(default_factory=list, description="Only when one of these words is said within 24 characters before")
    examples: PatternExamples = Field(default_factory=PatternExamples)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        return value


class RedactConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    mask: Literal["label", "partial"] = "label"
    entities: dict[Literal[ENTITY_NAMES], bool] = Field(default_factory=dict)  # type: ignore[valid-type]
    audio: Literal["silence", "tone"] = "silence"
    patterns: list[CustomPattern] = Field(default_factory=list)

    def entity_on(self, name: str) -> bool:
        return self.entities.get(name, True)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]
