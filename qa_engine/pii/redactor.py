"""Find and mask personal data in transcripts: the one object every input path calls.

`Redactor.redact_transcript` reads a whole call as one text in time order (utterances
joined by newlines), so a number read out over two turns, with the other side's 嗯 in
between, is one digit run, and the agent's question (您的手机号是多少) is a cue for the
customer's answer. `LiveRedactor` does the same turn by turn for live calls; a turn
cannot be unsent, so there a trailing digit run that may be the start of a number is
masked at once (`[号码]`).

Nothing here keeps a matched value: a redacted transcript carries only `PiiSpan`s (the
entity, where the mask is, when it was said). Any failure raises `RedactionError`,
whose message holds no text, so callers can fail the call closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_engine.models import CallTranscript, PiiRecord, PiiSpan, Utterance
from qa_engine.pii.base import Doc, Found, has_cue
from qa_engine.pii.config import RedactConfig
from qa_engine.pii.entities import ENTITIES, NUMBER_ENTITIES, TEXT_ENTITIES, NumberEntity
from qa_engine.pii.entities.id_card import id_check_char
from qa_engine.pii.masks import mask_for
from qa_engine.pii.sound import find_cue

FRAGMENT = "number_fragment"
FRAGMENT_LABEL = "号码"


# Place values, an ordinal, and measure words said right after a number: a quantity.
QUANTITY = set("十百千万亿第次个元块号份件张台天年月日岁斤米分秒点位人层套瓶箱袋盒单")


def _checksummed(found: Found) -> bool:
    """A hit whose shape is strong evidence on its own: an ID number with a valid check
    character (region, birth date, check: 1 in 11 by chance and the date besides)."""
    return found.entity == "id_card" and found.digits is not None and len(found.digits) == 18 and (
        id_check_char(found.digits[:17]) == found.digits[17]
    )


class RedactionError(RuntimeError):
    """Redaction failed; the call must not be written."""


@dataclass
class _Pattern:
    id: str
    label: str
    regex: re.Pattern
    context: tuple[str, ...]


class Redactor:
    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()
        self.numbers = [e for e in NUMBER_ENTITIES if self.config.entity_on(e.name)]
        self.texts = [e for e in TEXT_ENTITIES if self.config.entity_on(e.name)]
        self.patterns = [
            _Pattern(p.id, p.label, re.compile(p.pattern), tuple(p.context)) for p in self.config.patterns
        ]
        self.labels = {name: e.label for name, e in ENTITIES.items()} | {p.id: p.label for p in self.patterns}
        self.labels[FRAGMENT] = FRAGMENT_LABEL
        self._asks = {cue: e for e in self.numbers for cue in e.asks}
        self._ask_cues = (*self._asks, *self.EITHER_CUES)
        self._ask_sound = (*(c for e in self.numbers for c in e.sound_cues if c in e.asks), *self.EITHER_SOUND)
        self._by_cue_from = min((e.by_cue_from for e in self.numbers if e.by_cue_from is not None), default=None)
        self.fingerprint = self.config.fingerprint()

    # -- finding ---------------------------------------------------------------------

    def find(self, doc: Doc) -> list[Found]:
        """Every PII span in the doc, overlaps resolved (longest first), in order."""
        found = self._numbers(doc)
        for entity in self.texts:
            found.extend(entity.find(doc))
        found.extend(self._custom(doc))
        found.sort(key=lambda f: (f.start, -(f.end - f.start), -f.priority))
        kept: list[Found] = []
        for item in found:
            if item.end <= item.start:
                continue
            if kept and item.start < kept[-1].end:
                last = kept[-1]
                if item.end - item.start > last.end - last.start and item.priority >= last.priority:
                    kept[-1] = item
                continue
            kept.append(item)
        return kept

    def _numbers(self, doc: Doc) -> list[Found]:
        text = doc.norm.text
        found: list[Found] = []
        for run in doc.digit_runs:
            hits = self._judge_run(doc, run)
            a, b = run.groups[0][0], run.groups[-1][1]
            start, end = doc.norm.span(a, b)
            whole = len(hits) == 1 and hits[0].start == start and hits[0].end == end
            if (not whole or not _checksummed(hits[0])) and self._could_be_asked(run):
                asked = self._asked(doc, a)
                if asked and asked[0] is not None and not (whole and hits[0].entity == asked[0].name):
                    # The cue says what was asked for (身份证 …): a run the shapes split or
                    # labelled otherwise (a lost digit makes an ID look like a card) is it.
                    digits = "".join(text[x:y] for x, y in run.groups)
                    reason = asked[0].by_cue(digits, asked[1])
                    if reason:
                        hits = [Found(asked[0].name, start, end, reason, asked[0].name, digits, priority=1)]
            found.extend(hits)
            found.extend(self._cued_leftovers(doc, run, found))
        return found

    def _could_be_asked(self, run) -> bool:
        """Whether the run is long enough for some entity's `by_cue` (most runs are 一, 两 …)."""
        shortest = self._by_cue_from
        return shortest is not None and sum(b - a for a, b in run.groups) >= shortest

    def _judge_run(self, doc: Doc, run) -> list[Found]:
        """The numbers of one run by their shape, longest first."""
        text = doc.norm.text
        found: list[Found] = []
        groups = run.groups
        i = 0
        while i < len(groups):
            hit = None
            for j in range(len(groups) - 1, i - 1, -1):
                digits = "".join(text[a:b] for a, b in groups[i : j + 1])
                if len(digits) < 4:
                    break
                window = doc.cue_window(groups[i][0], groups[j][1])
                for entity in self.numbers:
                    reason = entity.judge(digits, has_cue(window, entity.cues, entity.sound_cues))
                    if reason:
                        start, end = doc.norm.span(groups[i][0], groups[j][1])
                        hit = Found(entity.name, start, end, reason, entity.name, digits, priority=1)
                        break
                if hit:
                    found.append(hit)
                    i = j + 1
                    break
            if hit is None:
                i += 1
        return found

    # Cues that ask for a number without saying which kind: its first digit decides (1:
    # a mobile, 0: a landline), or the number just before it that it continues.
    EITHER_CUES = ("电话", "号码", "联系方式")
    EITHER_SOUND = ("电话", "联系方式")
    STRONG_CUES = ("手机", "电话", "号码", "卡号", "银行卡", "身份证", "证件号")

    def _asked(self, doc: Doc, norm_start: int) -> tuple[NumberEntity | None, str] | None:
        """What the cue said last in the 40 characters before a run asked for: (entity, cue),
        entity None for 电话/号码; None when no cue. Cues match by sound too (收集 for 手机)."""
        before = doc.norm.text[max(0, norm_start - 40) : norm_start]
        if norm_start < 40:
            before = doc.context_before[-40:] + before
        hit = find_cue(before, self._ask_cues, self._ask_sound)
        if hit is None:
            return None
        cue, end, heard = hit
        if cue in self.EITHER_CUES:
            # 身份证号码, 银行卡的号码: the kind said just before 号码 is what was asked for.
            start = end - len(heard)
            kind = find_cue(before[:start], tuple(self._asks), tuple(c for c in self._ask_sound if c in self._asks))
            if kind is not None and start - kind[1] <= 2:
                cue, end, heard = kind
        return self._asks.get(cue), cue if heard == cue else f"{cue} (heard {heard})"

    def _cued_leftovers(self, doc: Doc, run, found: list[Found]) -> list[Found]:
        """Digits asked for but matching no entity: speech-to-text drops or mishears digits
        (a card read as 15 digits, a mobile number cut by a misheard 嗯), so after a strong
        cue every group of a run the entities left is masked (fail closed), labelled by what
        the cue asked for (银行卡 → [银行卡号]; 电话 → by the first digit or the number it
        continues) or else as `[号码]`."""
        text = doc.norm.text
        spans = [doc.norm.span(a, b) for a, b in run.groups]
        left = [(a, b) for (a, b), (x, y) in zip(run.groups, spans, strict=True)
                if not any(f.start < y and x < f.end for f in found)]
        digits = "".join(text[a:b] for a, b in left)
        if len(digits) < 3 or not self.numbers:
            return []
        first, last = spans[0][0], spans[-1][1]
        said = doc.original[max(0, first - 1) : first] + doc.original[last : last + 1]
        said += "".join(doc.original[x:y] for x, y in spans)
        if any(ch in QUANTITY for ch in said):
            return []  # a quantity, an ordinal or a price said with units, not digits read out
        asked = self._asked(doc, run.groups[0][0])
        if asked is None:
            return []
        entity, cue = asked
        strong = cue.split(" ")[0] in self.STRONG_CUES or (entity is not None and entity.name in ("landline", "bank_card"))
        if not strong:
            return []
        name = entity.name if entity is not None else self._either(digits, found, first, doc)
        reason = f"digits asked for after '{cue}', matching no number pattern (misheard?)"
        return [Found(name, x, y, reason, name) for (a, b) in left for x, y in [doc.norm.span(a, b)]]

    def _either(self, digits: str, found: list[Found], start: int, doc: Doc) -> str:
        """电话/号码 asked: a mobile if it starts with 1, a landline with 0, else what the
        number just before (the same number's first part, across the other side's turn) was."""
        on = {e.name for e in self.numbers}
        if digits[0] == "1" and "phone" in on:
            return "phone"
        if digits[0] == "0" and "landline" in on:
            return "landline"
        before = [f for f in found if f.end <= start and f.entity in ("phone", "landline")]
        if before and start - before[-1].end <= 12 and "\n" in doc.original[before[-1].end : start]:
            return before[-1].entity
        return FRAGMENT

    def _custom(self, doc: Doc) -> list[Found]:
        found = []
        text = doc.norm.text
        for pattern in self.patterns:
            for m in pattern.regex.finditer(text):
                if m.end() == m.start():
                    continue
                if pattern.context and not has_cue(text[max(0, m.start() - 24) : m.start()], pattern.context):
                    continue
                start, end = doc.norm.span(*m.span())
                found.append(Found(pattern.id, start, end, f"custom pattern '{pattern.id}'", pattern.id, priority=2))
        return found

    def fragments(self, doc: Doc, covered: list[Found], start_at: int) -> list[Found]:
        """Live only: a digit run ending the text that may be the first part of a number."""
        text = doc.norm.text
        runs = doc.digit_runs
        if not runs:
            return []
        run = runs[-1]
        a, b = run.groups[0][0], run.groups[-1][1]
        if text[b:].strip(" ,，、.。!！?？嗯呃啊\n"):
            return []
        start, end = doc.norm.span(a, b)
        start = max(start, start_at)
        if end <= start or any(f.start < end and start < f.end for f in covered):
            return []
        digits = "".join(text[x:y] for x, y in run.groups)
        cue = has_cue(
            doc.cue_window(a, b),
            tuple(c for e in self.numbers for c in e.cues),
            tuple(c for e in self.numbers for c in e.sound_cues),
        )
        if len(digits) >= 3 and (cue or (len(digits) >= 4 and digits[0] in "10456")):
            return [Found(FRAGMENT, start, end, "digits at the end of a turn may begin a number", FRAGMENT)]
        return []

    # -- masking ---------------------------------------------------------------------

    def mask(self, found: Found, whole: bool = True) -> str:
        return mask_for(found.entity, self.labels.get(found.entity, found.entity), self.config.mask, found.digits, whole)

    def redact_text(self, text: str, context_before: str = "") -> tuple[str, list[Found]]:
        """One sentence: the redacted text and what was found (for `qa rules explain redact`)."""
        doc = Doc(text, context_before)
        found = self.find(doc)
        out = text
        for item in reversed(found):
            out = out[: item.start] + self.mask(item) + out[item.end :]
        return out, found

    def redact_transcript(self, transcript: CallTranscript) -> CallTranscript:
        """A copy of the call with every PII span masked and a `pii` record; raises RedactionError."""
        try:
            return self._redact_transcript(transcript)
        except RedactionError:
            raise
        except Exception as error:
            raise RedactionError(f"personal-data redaction failed ({type(error).__name__}); call not written") from None

    def _redact_transcript(self, transcript: CallTranscript) -> CallTranscript:
        utterances = transcript.utterances
        order = sorted(range(len(utterances)), key=lambda k: (utterances[k].start, utterances[k].end))
        offsets: dict[int, int] = {}
        parts: list[str] = []
        position = 0
        for k in order:
            offsets[k] = position
            parts.append(utterances[k].text)
            position += len(utterances[k].text) + 1
        doc = Doc("\n".join(parts))
        found = self.find(doc)
        pieces: dict[int, list[tuple[int, int, Found, bool]]] = {}
        for item in found:
            inside = [
                k for k in order
                if offsets[k] < item.end and item.start < offsets[k] + len(utterances[k].text)
            ]
            for k in inside:
                base = offsets[k]
                start = max(item.start, base) - base
                end = min(item.end, base + len(utterances[k].text)) - base
                if end > start:
                    pieces.setdefault(k, []).append((start, end, item, len(inside) == 1))
        new_utterances = list(utterances)
        spans: list[PiiSpan] = []
        for k, items in pieces.items():
            new, placed = self._apply(utterances[k], items, k)
            new_utterances[k] = new
            spans.extend(placed)
        spans.sort(key=lambda s: (s.utterance_index, s.start_char))
        record = PiiRecord(config=self.fingerprint, spans=spans)
        return transcript.model_copy(update={"utterances": new_utterances, "pii": record})

    def _apply(self, utterance: Utterance, items, index: int) -> tuple[Utterance, list[PiiSpan]]:
        text = utterance.text
        items = sorted(items, key=lambda t: t[0])
        out: list[str] = []
        spans: list[PiiSpan] = []
        cursor = 0
        for start, end, item, whole in items:
            out.append(text[cursor:start])
            mask = self.mask(item, whole)
            at = sum(len(p) for p in out)
            out.append(mask)
            t0, t1, timing = span_times(utterance, start, end)
            spans.append(
                PiiSpan(
                    utterance_index=index,
                    entity=item.entity,
                    start_char=at,
                    end_char=at + len(mask),
                    start=t0,
                    end=t1,
                    timing=timing,
                )
            )
            cursor = end
        out.append(text[cursor:])
        redacted = utterance.model_copy(update={"text": "".join(out)})
        redacted._char_times = None  # they describe the raw text
        return redacted, spans

    def live(self) -> LiveRedactor:
        return LiveRedactor(self)


def span_times(utterance: Utterance, start: int, end: int) -> tuple[float, float, str]:
    """When characters [start, end) of the utterance were said: from its word timestamps
    when speech-to-text gave them, else spread evenly over the utterance by character."""
    times = utterance._char_times
    if times is not None and len(times) == len(utterance.text) and end > start:
        t0 = min(t for t, _ in times[start:end])
        t1 = max(t for _, t in times[start:end])
        return round(t0, 3), round(t1, 3), "words"
    length = max(len(utterance.text), 1)
    duration = utterance.end - utterance.start
    return (
        round(utterance.start + duration * start / length, 3),
        round(utterance.start + duration * end / length, 3),
        "interpolated",
    )


class LiveRedactor:
    """Turn by turn: each turn is redacted as it arrives, with the last turns as context."""

    HISTORY = 2

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._history: list[str] = []  # the last raw turns, in memory only, for split numbers

    def feed(self, utterance: Utterance) -> Utterance:
        try:
            return self._feed(utterance)
        except Exception as error:
            raise RedactionError(f"personal-data redaction failed ({type(error).__name__}); turn dropped") from None

    def _feed(self, utterance: Utterance) -> Utterance:
        before = "\n".join(self._history)
        offset = len(before) + 1 if self._history else 0
        doc = Doc(before + "\n" + utterance.text if self._history else utterance.text)
        found = [f for f in self.redactor.find(doc) if f.end > offset]
        found += self.redactor.fragments(doc, found, offset)
        self._history = (self._history + [utterance.text])[-self.HISTORY :]
        text = utterance.text
        for item in sorted(found, key=lambda f: f.start, reverse=True):
            start, end = max(item.start, offset) - offset, item.end - offset
            whole = item.start >= offset
            text = text[:start] + self.redactor.mask(item, whole) + text[end:]
        return utterance.model_copy(update={"text": text})
