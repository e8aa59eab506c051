"""Live QA: check a call while it happens, from transcript events or raw audio.

- `LiveCall`: utterances in (as a telephony platform's own STT sends them), findings out
  the moment the engine's `Session.feed` decides them; `close()` gives the report.
- `AudioCall`: 16-bit PCM frames (8/16 kHz, interleaved stereo or one channel at a time)
  in; per-channel Silero endpointing, each finished turn transcribed and fed at once.
- `StreamingAudioCall` + `SttWorker` + `Capacity`: the same on an event loop, many calls
  sharing one Whisper model; what the server (`qa_engine.server`) runs.
"""

from qa_engine.live.audio import AudioCall, LiveEvent, Recognizer, chunk_utterances
from qa_engine.live.call import LiveCall
from qa_engine.live.capacity import CallLoad, Capacity, CapacityPolicy
from qa_engine.live.pcm import SUPPORTED_RATES, PcmDecoder
from qa_engine.live.segmenter import AudioSegmenter
from qa_engine.live.streaming import StreamingAudioCall
from qa_engine.live.vad import EndpointConfig, Endpointer, SileroStream, SpeechChunk
from qa_engine.live.worker import BATCH, LIVE, SttWorker

__all__ = [
    "BATCH",
    "LIVE",
    "SUPPORTED_RATES",
    "AudioCall",
    "AudioSegmenter",
    "CallLoad",
    "Capacity",
    "CapacityPolicy",
    "EndpointConfig",
    "Endpointer",
    "LiveCall",
    "LiveEvent",
    "PcmDecoder",
    "Recognizer",
    "SileroStream",
    "SpeechChunk",
    "StreamingAudioCall",
    "SttWorker",
    "chunk_utterances",
]
