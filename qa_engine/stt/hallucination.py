"""Drop the text Whisper invents on silence and noise.

Whisper was trained on subtitled video, so on quiet or noisy stretches it writes subtitle
credits and channel plugs ("字幕由Amara.org社群提供", "请不吝点赞订阅转发打赏支持明镜与点点
栏目"). In a QA report such a line would be scored as something the agent said, so it is
removed — but only when it is the whole segment, so a real sentence that merely contains
"谢谢" is never touched.
"""

from __future__ import annotations

import re

import numpy as np

from qa_engine.stt.normalize import match_key

_KNOWN = (
    "字幕由Amara.org社群提供",
    "字幕由Amara.org社区提供",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "明镜与点点栏目",
    "明镜需要您的支持 欢迎订阅明镜",
    "谢谢观看",
    "感谢观看",
    "多谢观看",
    "谢谢收看",
    "感谢收看",
    "谢谢大家观看",
    "谢谢你的观看",
    "谢谢您的观看",
    "优优独播剧场——YoYo Television Series Exclusive",
    "优优独播剧场",
    "YoYo Television Series Exclusive",
    "中文字幕由Amara.org社区提供",
    "中文字幕志愿者",
    "本字幕由志愿者制作",
    "字幕志愿者 杨茜茜",
    "小编字幕",
    "请订阅我的频道",
    "订阅我的频道",
    "点赞订阅",
    "感谢您的收听",
    "Thank you for watching",
    "Thanks for watching",
    "Please subscribe",
)
KNOWN_HALLUCINATIONS = frozenset(match_key(p) for p in _KNOWN)
"""Normalised (``match_key``) texts that are dropped when they make up a whole segment."""

_PATTERNS = (
    re.compile(r"(中文)?字幕(由|来自|制作|提供|翻译|校对|志愿者).{0,30}"),
    re.compile(r"(谢谢|感谢|多谢)(大家|你|您)?(的)?(观看|收看|收听)"),
    re.compile(r"amaraorg.{0,10}"),
)

NEAR_SILENCE_RMS = 10 ** (-45 / 20)
"""-45 dBFS: quieter than any real phone speech; text decoded here is suspect."""


def is_known_hallucination(text: str) -> bool:
    """Whether the whole text (after normalisation) is a known silence hallucination.

    Repeats ("谢谢观看谢谢观看") count too; anything with other words around it does not.
    """
    key = match_key(text)
    if not key:
        return False
    if key in KNOWN_HALLUCINATIONS or any(p.fullmatch(key) for p in _PATTERNS):
        return True
    for phrase in KNOWN_HALLUCINATIONS:
        if len(key) % len(phrase) == 0 and key == phrase * (len(key) // len(phrase)):
            return True
    return False


def rms(samples: np.ndarray) -> float:
    """Root mean square level of float samples (0 for an empty span)."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def is_silence_hallucination(
    no_speech_prob: float, avg_logprob: float, level_rms: float
) -> bool:
    """Text the model itself doubts, decoded over audio too quiet to hold speech."""
    doubtful = no_speech_prob >= 0.6 or avg_logprob <= -1.0
    return doubtful and level_rms < NEAR_SILENCE_RMS


def is_hallucination(
    text: str,
    no_speech_prob: float = 0.0,
    avg_logprob: float = 0.0,
    level_rms: float = 1.0,
) -> bool:
    """Either kind of invented segment; see the two functions above."""
    return is_known_hallucination(text) or is_silence_hallucination(
        no_speech_prob, avg_logprob, level_rms
    )
