"""Score and transcribe calls on a Ray cluster (``qa score --ray auto``).

Only where the work runs changes: the driver (the ``qa`` process) still reads the inputs,
skips what ``--resume`` finds done, writes every report atomically and counts every call,
exactly as in a local run (`qa_engine.batch.run_batch`). See `ray_runner` for the pool.
"""

from qa_engine.distributed.ray_runner import (
    RayUnavailableError,
    WorkerConfig,
    iter_transcripts_on_ray,
    run_on_ray,
)

__all__ = ["RayUnavailableError", "WorkerConfig", "iter_transcripts_on_ray", "run_on_ray"]
