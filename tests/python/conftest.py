"""Shared fixtures: the redress binary, a running `redress up`, the Python stubs of the
contract, and the logs of the processes a failed test ran."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]


def redress_binary() -> str:
    """The binary under test: $REDRESS_BIN, else the debug build."""
    path = os.environ.get("REDRESS_BIN", str(ROOT / "target" / "debug" / "redress"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"no redress binary at {path}: run `cargo build -p redress` first (`script/test` does)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict:
    """The environment without redress configuration, so tests control it."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REDRESS_") or k.startswith("REDRESS_TEST_")}


def wait_serving(channel: grpc.Channel, service: str, timeout: float = 30.0) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                return
            last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        except grpc.RpcError as e:
            last = e.code()
        time.sleep(0.1)
    pytest.fail(f"{service or 'the server'} never became SERVING (last: {last})")


class Up:
    """A `redress up` process."""

    def __init__(self, *extra: str, env: dict | None = None) -> None:
        """Starts `redress up` on a free port, with `extra` arguments (`--set key=value`) and
        `env` (`REDRESS_…` variables)."""
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="redress-up-")
        self.log = open(os.path.join(self.data_dir, "redress.log"), "w+")
        self.env = {**clean_env(), **(env or {})}
        self.process = subprocess.Popen(
            [redress_binary(), "up", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
             "--set", "metrics.listen=", *extra],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long it took to stop."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=10)
        return code, time.monotonic() - started

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def up():
    server = Up()
    try:
        wait_serving(server.channel, "")
        yield server
    finally:
        server.close()


def generate_stubs(out: str) -> None:
    """Python modules for the contract, from proto/, into `out` (put on sys.path)."""
    from importlib import resources

    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = ["protoc", f"-I{ROOT / 'proto'}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + protos) != 0:
        pytest.fail(f"protoc could not compile {protos}")
    sys.path.insert(0, out)


@pytest.fixture(scope="session")
def contract():
    """The contract's Python stubs, generated from proto/ into a temporary directory for the
    session and importable as `redress.<service>.v1.*_pb2`."""
    out = tempfile.mkdtemp(prefix="redress-stubs-")
    generate_stubs(out)
    try:
        yield out
    finally:
        if out in sys.path:
            sys.path.remove(out)
        shutil.rmtree(out, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item (`item.report_call`), and when a test fails
    adds the tail of each redress process's log to its report. A fixture value with a
    `log_tails()` method (a cluster of processes) provides them."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
    if not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        tails = getattr(value, "log_tails", None)
        if callable(tails):
            report.sections.append(("redress process logs", tails()))
