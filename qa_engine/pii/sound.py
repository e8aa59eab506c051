"""Cue words and markers matched by sound, as the rule engine matches phrases.

Speech-to-text writes homophones: 我姓陈 comes out as 我兴臣, 张江路 as 张江鲁, 手机号
as 收集号. The rule engine matches phrases by toneless, fuzzy-folded pinyin for this
reason (`qa_engine.text.folded_pinyin`); the recognisers do the same for the words
that tell them what is being said (cues) and the characters that end an address
part (路, 号, 栋, 室 …). Matching by sound only ever widens *where to look*: a value
still has to have the shape of its entity, and the mask still covers the original
characters (nothing here changes a text's length).

Two strengths: `folded` (zh/z, ch/c, sh/s, l/n, ang/an, eng/en, ing/in merged) for
cues of three syllables or more, where a false match is unlikely; toneless pinyin
(`exact`) for two-syllable cues and single characters, where folding would make 信 (xin)
sound like 姓 (xing) and 我信你 a name.
"""

from __future__ import annotations

from functools import lru_cache

from qa_engine.text import char_pinyin, folded_pinyin

CJK_LO, CJK_HI = "\u4e00", "\u9fff"


def is_cjk(char: str) -> bool:
    return CJK_LO <= char <= CJK_HI


def syllables(text: str, folded: bool = False) -> tuple[str, ...]:
    """One syllable per character (non-CJK characters stand for themselves)."""
    if len(text) <= 64:
        return _short_syllables(text, folded)
    sound = folded_pinyin if folded else char_pinyin
    return tuple(sound(c) if is_cjk(c) else c for c in text)


@lru_cache(maxsize=8192)
def _short_syllables(text: str, folded: bool) -> tuple[str, ...]:
    sound = folded_pinyin if folded else char_pinyin
    return tuple(sound(c) if is_cjk(c) else c for c in text)


def _strength(cue: str) -> bool:
    """True: match folded (three syllables or more)."""
    return len(cue) >= 3


@lru_cache(maxsize=4096)
def find_cue(window: str, cues: tuple[str, ...], sound: tuple[str, ...] = ()) -> tuple[str, int, str] | None:
    """The cue said last in `window`: (cue, end position, how it was heard), or None.

    `cues` are matched as written; `sound` (a subset of them, words with a distinctive
    sound) also by pinyin. The last one said wins, so of 手机 … 身份证 the nearer counts.
    """
    best: tuple[str, int, str] | None = None
    for cue in cues:
        at = window.rfind(cue)
        if at >= 0 and (best is None or at + len(cue) > best[1]):
            best = (cue, at + len(cue), cue)
    if not sound:
        return best
    if _SEP in window:  # the separator is never a syllable otherwise: search syllable by syllable
        return _find_sound_slowly(window, sound, best)
    heard: dict[bool, str] = {}
    for cue in sound:
        folded = _strength(cue)
        have = heard.get(folded)
        if have is None:
            have = heard[folded] = _sound_text(window, folded)
        want = _cue_sound(cue, folded)
        position = have.rfind(want)
        if position >= 0:
            at = have.count(_SEP, 0, position)  # the syllable the match starts at
            end = at + len(cue)
            if best is None or end > best[1]:
                best = (cue, end, window[at:end])
    return best


_SEP = "\x00"


class _SyllableTable(dict):
    """A `str.translate` table, filled on demand: each character to its syllable and the separator."""

    def __init__(self, folded: bool) -> None:
        super().__init__()
        self.sound = folded_pinyin if folded else char_pinyin

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = (self.sound(char) if is_cjk(char) else char) + _SEP
        if len(self) < 65536:  # bounded, whatever characters an input holds
            self[code] = value
        return value


_TABLES = {False: _SyllableTable(False), True: _SyllableTable(True)}


@lru_cache(maxsize=1024)
def _cue_sound(cue: str, folded: bool) -> str:
    return _sound_text(cue, folded)


def _sound_text(text: str, folded: bool) -> str:
    """`syllables(text)` joined and framed by a separator, for whole-syllable search."""
    return _SEP + text.translate(_TABLES[folded])


def _find_sound_slowly(window: str, sound: tuple[str, ...], best):
    for cue in sound:
        folded = _strength(cue)
        want = syllables(cue, folded)
        have = syllables(window, folded)
        k = len(want)
        for at in range(len(have) - k, -1, -1):
            if have[at : at + k] == want:
                end = at + k
                if best is None or end > best[1]:
                    best = (cue, end, window[at:end])
                break
    return best


def sounds_like(char: str, targets: frozenset[str]) -> bool:
    """Whether one character's toneless pinyin is among `targets` (syllables)."""
    return is_cjk(char) and char_pinyin(char) in targets


@lru_cache(maxsize=64)
def chars_sounding(*wanted: str, folded: bool = False) -> str:
    """Every common CJK character whose pinyin (toneless, or folded) is one of `wanted`,
    for a regex character class: a cheap way to find where a homophone may stand."""
    import unicodedata

    from pypinyin.pinyin_dict import pinyin_dict

    sound = folded_pinyin if folded else char_pinyin
    out = []
    for code, readings in pinyin_dict.items():
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        first = unicodedata.normalize("NFD", readings.split(",")[0].replace("ü", "v"))
        rough = "".join(c for c in first if c.isascii())
        if folded:
            rough = _fold(rough)
        if rough in wanted:
            char = chr(code)
            if sound(char) in wanted:
                out.append(char)
    return "".join(out)


def _fold(syllable: str) -> str:
    """`folded_pinyin`'s merging, on a syllable."""
    for long, short in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n")):
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in (("ang", "an"), ("eng", "en"), ("ing", "in")):
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable
