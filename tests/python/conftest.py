"""Shared fixtures: the redress binary and a running `redress up`."""

import os
import pathlib
import signal
import socket
import subprocess
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
        pytest.fail(f"no redress binary at {path}: run `cargo build -p redress` first (just test does)")
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

    def __init__(self) -> None:
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="redress-up-")
        self.log = open(os.path.join(self.data_dir, "redress.log"), "w+")
        self.process = subprocess.Popen(
            [redress_binary(), "up", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
             "--set", "metrics.listen="],
            env=clean_env(), stdout=self.log, stderr=subprocess.STDOUT,
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
