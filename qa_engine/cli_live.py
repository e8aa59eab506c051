"""`qa serve` and `qa stream`: the live server and the client that replays a call to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_engine.cli_options import console, errors, fail, with_stt_options
from qa_engine.report.console import print_problems
from qa_engine.rulefile import RuleFileError


@with_stt_options(channels=False)
def serve(
    stt: dict,
    config: Annotated[Path | None, typer.Option(help="Server settings file (YAML or JSON): any ServerConfig field; flags override it.")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8600).")] = None,
    rules: Annotated[list[Path] | None, typer.Option("--rules", "-r", help="Rule file; repeat for several sets, named by file stem (first is the default).")] = None,
    token: Annotated[str | None, typer.Option(envvar="QA_TOKEN", help="Require this bearer token on HTTP and WebSocket.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for live calls' reports, partial ones too (default qa-out/live).")] = None,
    max_audio_calls: Annotated[int | None, typer.Option(min=0, help="Fixed limit on live audio calls (default: computed from the measured transcription load).")] = None,
    max_lag: Annotated[float | None, typer.Option(help="Refuse new audio calls while transcription is this many seconds behind (default 2).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Transcript cache for uploaded recordings.")] = None,
    preload: Annotated[bool | None, typer.Option(help="Load the speech model at start-up (default yes).")] = None,
    insecure: Annotated[bool | None, typer.Option(help="Allow a non-loopback --host without --token.")] = None,
    keep_pii: Annotated[bool | None, typer.Option("--keep-pii", help="Do not redact personal data (events, reports, saved calls, cache).")] = None,
) -> None:
    """Run the live QA server: WebSocket /v1/stream, POST /v1/score and /v1/calls, OpenAPI at /docs."""
    from qa_engine.server import serve as run_server
    from qa_engine.server.config import ConfigFileError, load_server_config

    flags = {"host": host, "port": port, "rules": rules, "token": token, "out_dir": out, "cache_dir": cache_dir,
             "preload_model": preload, "insecure": insecure, "keep_pii": keep_pii, "stt": stt or None,
             "capacity": {k: v for k, v in {"max_audio_calls": max_audio_calls, "max_lag_s": max_lag}.items() if v is not None} or None}
    try:
        run_server(load_server_config(config, {k: v for k, v in flags.items() if v is not None}))
    except RuleFileError as error:
        print_problems(errors, error.problems)
        raise fail(f"[red]{len(error.problems)} problem(s) in the rule files; the server did not start.[/red]") from None
    except ConfigFileError as error:
        raise fail(f"[red]invalid server settings:[/red]\n{error}") from None
    except ValueError as error:
        raise fail(f"[red]invalid server options:[/red] {error}") from None


def stream(
    call: Annotated[Path | None, typer.Argument(help="Recording to replay as live audio (or a transcript .json).")] = None,
    url: Annotated[str, typer.Option(help="The server's stream endpoint.")] = "ws://127.0.0.1:8600/v1/stream",
    speed: Annotated[float, typer.Option(min=0, help="Replay speed: 1 real time, 4 four times faster, 0 as fast as possible.")] = 1.0,
    transcript: Annotated[Path | None, typer.Option(help="Replay this transcript as timed utterance events instead of audio.")] = None,
    token: Annotated[str | None, typer.Option(envvar="QA_TOKEN", help="Bearer token, when the server has one.")] = None,
    call_id: Annotated[str | None, typer.Option(help="Call id (default: the file name or the transcript's).")] = None,
    agent_id: Annotated[str | None, typer.Option(help="Agent id (audio mode).")] = None,
    rules: Annotated[str | None, typer.Option(help="Name of a rule set loaded on the server.")] = None,
    frame_ms: Annotated[int, typer.Option(min=10, max=1000, help="Audio per frame, in milliseconds.")] = 50,
    quiet: Annotated[bool, typer.Option(help="Print findings and the score only, not the transcript.")] = False,
) -> None:
    """Replay a recorded call to a live server in real time, printing findings as they arrive."""
    import asyncio

    from websockets.exceptions import WebSocketException

    from qa_engine.models import CallTranscript
    from qa_engine.report.console import stream_line, stream_summary
    from qa_engine.server import client

    source = transcript or (call if call is not None and call.suffix.lower() == ".json" else None)
    if source is None and call is None:
        raise fail("[red]give a recording to replay, or --transcript FILE[/red]")

    def show(item) -> None:
        line = stream_line(item)
        if line and not (quiet and item.type == "transcript"):
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    try:
        if source is not None:
            data = CallTranscript.model_validate_json(source.read_text(encoding="utf-8"))
            data = data.model_copy(update={"call_id": call_id}) if call_id else data
            run = client.stream_transcript(url, data, speed=speed, token=token, rules=rules, on_message=show)
        else:
            assert call is not None
            run = client.stream_audio(url, client.read_pcm(call), call_id or call.stem, agent_id=agent_id, speed=speed,
                                      frame_ms=frame_ms, token=token, rules=rules, on_message=show)
        result = asyncio.run(run)
    except (OSError, ValueError, WebSocketException) as error:
        raise fail(f"[red]cannot stream:[/red] {error}") from None
    if result.busy:
        raise fail(f"[yellow]{result.busy}[/yellow]", 3)
    if result.refused:
        raise fail(f"[red]refused:[/red] {result.refused.message}", 2)
    if result.report is None:
        raise fail("[red]the server closed the call without a report[/red]", 2)
    console.print(stream_summary(result.report), highlight=False)
