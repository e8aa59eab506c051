"""Schemathesis against the server's own OpenAPI: no generated request gets a 5xx.

Bounded: a few dozen examples per operation (well under a minute on two cores). The
server is the real loopback one, with a recognizer that 'transcribes' any decodable file
from the reference transcript, so uploads exercise the whole HTTP path without Whisper.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from hardening_server.kit import FileRecognizer
from qa_engine.server import ServerConfig

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator:
    from serverkit import _Running

    root = tmp_path_factory.mktemp("fuzz")
    config = ServerConfig(out_dir=root / "out", cache_dir=root / "cache", preload_model=False,
                          max_transcript_bytes=256 * 1024, max_upload_bytes=1024 * 1024)
    running = _Running(config, FileRecognizer())
    yield running.live
    running.stop()


def test_fuzz_openapi_no_server_errors(fuzz_server):
    schema = schemathesis.openapi.from_url(fuzz_server.http_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/score", "/v1/calls", "/v1/rules/reload", "/healthz"}
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call(base_url=fuzz_server.http_url, timeout=30)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}")

        call()
    assert not failures, "\n".join(failures[:10])
    assert len(statuses) >= 3 * len(operations), statuses  # it did exercise the server
