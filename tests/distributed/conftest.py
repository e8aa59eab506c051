"""A real Ray cluster on this machine: `ray start --head` plus a second node process.

Each node offers one CPU, so two calls run at once, on two raylets, as on two machines.
Every process the cluster starts descends from the two `ray start --block` processes
started here, and teardown ends exactly those (by pid), never `ray stop` (which would
stop any other Ray on the machine).

Ray replaces a loopback address with the machine's own interface address (by design), so
`--node-ip-address=127.0.0.1` alone still sends cluster traffic to the host's network
address. The cluster and its drivers therefore run in a private network namespace made
here (`ip netns`, as root) whose only interface is loopback: nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120
NETNS = f"qa-ray-{os.getpid()}"
"""The private network namespace (loopback only) the cluster and its drivers run in."""


def _in_netns(command: list[str]) -> list[str]:
    return ["ip", "netns", "exec", NETNS, *command]


def make_netns() -> None:
    """Create the loopback-only namespace, or raise RuntimeError saying why it cannot be made."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        raise RuntimeError("the Ray tests run the cluster in a private network namespace: they need root and iproute2")
    subprocess.run(["ip", "netns", "add", NETNS], check=True, capture_output=True)
    subprocess.run(_in_netns(["ip", "link", "set", "lo", "up"]), check=True, capture_output=True)


def remove_netns() -> None:
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalCluster:
    address: str
    temp_dir: Path
    starters: list[subprocess.Popen] = field(default_factory=list)

    def processes(self) -> list[psutil.Process]:
        """Every live process this cluster started (raylets, GCS, workers, actors)."""
        found = []
        for starter in self.starters:
            with contextlib.suppress(psutil.NoSuchProcess):
                found += psutil.Process(starter.pid).children(recursive=True)
        return found

    def find(self, title: str) -> psutil.Process | None:
        """A cluster process whose title (Ray sets `ray::<task or actor method>`) has `title`."""
        for process in self.processes():
            try:
                if title in " ".join(process.cmdline()):
                    return process
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return None

    def alive_nodes(self) -> int:
        script = (
            f"import ray; ray.init(address={self.address!r}, logging_level='ERROR', log_to_driver=False);"
            "print(sum(n['Alive'] for n in ray.nodes()))"
        )
        try:
            done = subprocess.run(_in_netns([sys.executable, "-c", script]), capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:  # the head's GCS is not answering yet
            return 0
        lines = done.stdout.strip().splitlines()
        return int(lines[-1]) if done.returncode == 0 and lines and lines[-1].isdigit() else 0

    def stop(self) -> None:
        everything = self.processes()
        for starter in self.starters:
            if starter.poll() is None:
                starter.send_signal(signal.SIGTERM)  # `ray start --block` stops its children
        for starter in self.starters:
            try:
                starter.wait(timeout=30)
            except subprocess.TimeoutExpired:
                starter.kill()
        for process in everything:  # anything the starters left behind, by pid
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(everything, timeout=10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            _in_netns([str(BIN / "ray"), "start", "--block", "--num-cpus=1", "--object-store-memory=100000000",
                       "--disable-usage-stats", *args]),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def start_cluster(nodes: int = 2) -> LocalCluster:
    """A head and `nodes - 1` more node processes, one CPU each; stopped on failure."""
    temp_dir = Path(tempfile.mkdtemp(prefix="qaray-", dir="/tmp"))  # sockets need a short path
    port = _free_port()
    cluster = LocalCluster(f"127.0.0.1:{port}", temp_dir)
    try:
        cluster.starters.append(_start(
            ["--head", f"--port={port}", "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}",
             "--include-dashboard=false"],
            temp_dir / "head.log",
        ))
        deadline = time.monotonic() + STARTUP_SECONDS
        for count in range(1, nodes + 1):
            if count > 1:
                cluster.starters.append(_start(
                    [f"--address={cluster.address}", "--node-ip-address=127.0.0.1"], temp_dir / f"node{count}.log"
                ))
            while cluster.alive_nodes() < count:
                if time.monotonic() > deadline or cluster.starters[-1].poll() is not None:
                    log = temp_dir / ("head.log" if count == 1 else f"node{count}.log")
                    raise RuntimeError(f"Ray node {count} did not start:\n" + log.read_text(errors="replace")[-3000:])
                time.sleep(1)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def ray_cluster():
    """A two-node local cluster for the whole session; stopped at the end, whatever happens."""
    try:
        make_netns()
    except (RuntimeError, subprocess.CalledProcessError) as error:
        pytest.skip(f"no private network namespace for the cluster: {error}")
    try:
        try:
            cluster = start_cluster(2)
        except RuntimeError as error:
            pytest.fail(str(error))
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        remove_netns()


def run_qa(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`qa ARGS` in its own process (a Ray driver), bounded in time."""
    return subprocess.run(
        _in_netns([str(BIN / "qa"), *args]), capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
