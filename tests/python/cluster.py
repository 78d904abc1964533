"""The five services as five `redress serve <service>` processes, set up the way the Helm chart
sets up five Deployments: configured only through `REDRESS_…` environment variables (the ones
charts/redress/templates/_helpers.tpl gives each container), migrated first by `redress migrate`
(the chart's migration Job), against a fresh PostgreSQL database, Redis under a key prefix of
their own, and an SMTP server in the test (aiosmtpd) that keeps every message it is given.

PostgreSQL comes from REDRESS_TEST_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres) and Redis from REDRESS_TEST_REDIS_URL (default
redis://127.0.0.1:6379). When either cannot be reached, the test fails saying what to start."""

from __future__ import annotations

import collections
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import clean_env, free_port, redress_binary

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
START_HINT = ("run the tests with `script/test`, which starts a private PostgreSQL and Redis, or point REDRESS_TEST_DATABASE_URL and "
              "REDRESS_TEST_REDIS_URL at running ones")

# In the order data flows through them.
SERVICES = ["intake", "case", "escalation", "notification", "analytics"]
# Services that talk to Redis ("redress.usesRedis").
USES_REDIS = {"intake", "escalation"}
GRPC_NAMES = {
    "intake": "redress.intake.v1.IntakeService",
    "case": "redress.case.v1.CaseService",
    "escalation": "redress.escalation.v1.EscalationService",
    "notification": "redress.notification.v1.NotificationService",
    "analytics": "redress.analytics.v1.AnalyticsService",
}


def deadline_loop(timeout: float, interval: float = 0.05):
    """Yields until `timeout` seconds have passed, sleeping `interval` between rounds."""
    end = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(interval)


# --- PostgreSQL -------------------------------------------------------------------------------


class FreshDatabase:
    """A fresh database on the test PostgreSQL server, dropped on close."""

    def __init__(self) -> None:
        import psycopg

        self.admin_url = os.environ.get("REDRESS_TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
        self.name = f"redress_e2e_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError as e:
            reason = " ".join(str(e).split())
            pytest.fail(f"cannot reach PostgreSQL at {self.admin_url} ({reason}): {START_HINT}", pytrace=False)
        parts = urllib.parse.urlsplit(self.admin_url)
        self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.name}"))

    def close(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- Redis ------------------------------------------------------------------------------------


class RedisNamespace:
    """The test Redis with a key prefix of this run's own; its keys are removed on close."""

    def __init__(self) -> None:
        import redis

        self.url = os.environ.get("REDRESS_TEST_REDIS_URL", DEFAULT_REDIS_URL)
        self.prefix = f"redress-e2e-{uuid.uuid4().hex[:12]}"
        self.client = redis.Redis.from_url(self.url, socket_connect_timeout=5, decode_responses=True)
        try:
            self.client.ping()
        except redis.RedisError as e:
            pytest.fail(f"cannot reach Redis at {self.url} ({e}): {START_HINT}", pytrace=False)

    def keys(self) -> list[str]:
        return sorted(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))

    def close(self) -> None:
        keys = self.keys()
        if keys:
            self.client.delete(*keys)
        self.client.close()


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Mail:
    """One message as the SMTP server received it."""

    envelope_from: str
    envelope_to: list[str]
    message: email.message.EmailMessage
    received: float = field(default_factory=time.monotonic)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "").strip()

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def to(self) -> str:
        return ",".join(a.lower() for a in self.envelope_to)

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def describe(self) -> str:
        return f"to={self.to} subject={self.subject!r} message_id={self.message_id}"


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free 127.0.0.1 port that keeps every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                message = email.message_from_bytes(envelope.original_content or envelope.content,
                                                   policy=email.policy.default)
                with sink._lock:
                    sink._mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
                return "250 OK"

        self._lock = threading.Lock()
        self._mails: list[Mail] = []
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def mails(self) -> list[Mail]:
        with self._lock:
            return list(self._mails)

    def matching(self, to: str, subject_contains: str) -> list[Mail]:
        return [m for m in self.mails() if m.to == to.lower() and subject_contains in m.subject]

    def wait_for(self, to: str, subject_contains: str, timeout: float = 30.0) -> Mail:
        """The first message to `to` whose subject contains `subject_contains`."""
        for _ in deadline_loop(timeout):
            found = self.matching(to, subject_contains)
            if found:
                return found[0]
        received = "\n  ".join(m.describe() for m in self.mails()) or "nothing"
        pytest.fail(f"no email to {to} with {subject_contains!r} in its subject within {timeout}s; received:\n  "
                    f"{received}")

    def close(self) -> None:
        self.controller.stop()


# --- Callers --------------------------------------------------------------------------------


class ApiKeyInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                        grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Authenticates each call the way a contact-centre system or a BI tool does in `tokens`
    mode. A test names its caller with `x-redress-tenant`, `x-redress-actor` and
    `x-redress-roles`; those headers are replaced by what `credentials(tenant, actor, roles)`
    gives: `authorization: Bearer <api key>` with the key issued to that caller, or, for the
    `system` role, the service token and the tenant, as one redress service calls another.
    Calls naming no caller (health checks) pass unchanged."""

    NAMES = ("x-redress-tenant", "x-redress-actor", "x-redress-roles")

    def __init__(self, credentials) -> None:
        self.credentials = credentials

    def _details(self, details):
        metadata = list(details.metadata or [])
        named = {k: v for k, v in metadata if k in self.NAMES}
        if not named:
            return details
        assert set(named) == set(self.NAMES), f"a caller is named by all of {self.NAMES}, got {named}"
        credentials = self.credentials(named["x-redress-tenant"], named["x-redress-actor"], named["x-redress-roles"])
        kept = [(k, v) for k, v in metadata if k not in self.NAMES]
        return _CallDetails(details.method, details.timeout, kept + credentials, details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


class _CallDetails(collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials",
                                                           "wait_for_ready", "compression")),
                   grpc.ClientCallDetails):
    """A call's details with other metadata."""


# --- Processes --------------------------------------------------------------------------------


class ServiceProcess:
    """One `redress serve <service>` process, restartable with the same environment."""

    def __init__(self, service: str, env: dict, port: int, log_dir: str, interceptor: ApiKeyInterceptor) -> None:
        self.service = service
        self.env = env
        self.port = port
        self.log_path = os.path.join(log_dir, f"{service}.log")
        self.process: subprocess.Popen | None = None
        self.killed: list[int] = []
        self.starts = 0
        self.raw_channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.channel = grpc.intercept_channel(self.raw_channel, interceptor)

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_path, "a")
        log.write(f"----- start {self.starts}: redress serve {self.service} -----\n")
        log.flush()
        self.process = subprocess.Popen(
            [redress_binary(), "serve", self.service],
            env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no draining; whatever was in flight is left as it was."""
        assert self.process is not None and self.process.poll() is None, f"{self.service} is not running"
        self.process.send_signal(signal.SIGKILL)
        code = self.process.wait(timeout=10)
        self.killed.append(code)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return -signal.SIGKILL
        return self.process.returncode

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_serving(self, timeout: float = 60.0) -> None:
        """Waits until health says SERVING for the whole server and for the service."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        last = None
        for _ in deadline_loop(timeout, 0.1):
            if not self.alive():
                pytest.fail(f"redress serve {self.service} exited with {self.process.returncode}:\n"
                            f"{self.log_tail()}")
            try:
                statuses = [stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=1).status
                            for name in ("", GRPC_NAMES[self.service])]
                if all(s == health_pb2.HealthCheckResponse.SERVING for s in statuses):
                    return
                last = [health_pb2.HealthCheckResponse.ServingStatus.Name(s) for s in statuses]
            except grpc.RpcError as e:
                last = e.code()
        pytest.fail(f"redress serve {self.service} never became SERVING within {timeout}s (last: {last}):\n"
                    f"{self.log_tail()}")

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        """Everything the process has logged, over all its starts."""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` of the log, without colours and without the one line per
        successful call, which would crowd out what matters."""
        kept = [line for line in ANSI.sub("", self.log()).splitlines()
                if not (" grpc call " in line and " code=Ok " in line)]
        return "\n".join(kept[-lines:])

    def close(self) -> None:
        self.raw_channel.close()
        if self.alive():
            self.process.kill()
            self.process.wait()


class OtlpSink:
    """A real OTLP/gRPC collector endpoint (the services' telemetry.otlp_endpoint) on a free
    127.0.0.1 port that keeps every span it is sent; metrics are accepted and dropped."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        self.spans: list = []
        self.lock = threading.Lock()
        sink = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):  # noqa: N802 (the OTLP service's name)
                with sink.lock:
                    for resource in request.resource_spans:
                        for scope in resource.scope_spans:
                            sink.spans.extend(scope.spans)
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request, context):  # noqa: N802
                return metrics_service_pb2.ExportMetricsServiceResponse()

        self.server = grpc.server(ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self.server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)
        self.port = free_port()
        self.server.add_insecure_port(f"127.0.0.1:{self.port}")
        self.server.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def received(self) -> list:
        """Every span received so far, encoded: names, attributes, events and status as the
        exporter sent them."""
        with self.lock:
            return [span.SerializeToString() for span in self.spans]

    def close(self) -> None:
        self.server.stop(0)


class Cluster:
    """Five `redress serve` processes over one PostgreSQL database, one Redis prefix and one
    SMTP server, each on free 127.0.0.1 ports. They run in `tokens` mode as the chart sets it
    up without an OIDC issuer: callers present API keys made with `redress apikey create`, and
    the services call each other with the service token."""

    def __init__(self, database: FreshDatabase, redis: RedisNamespace, smtp: SmtpSink, settings: dict,
                 otlp: OtlpSink | None = None) -> None:
        self.database = database
        self.otlp = otlp
        self.redis = redis
        self.smtp = smtp
        self.log_dir = tempfile.mkdtemp(prefix="redress-e2e-logs-")
        self.ports = {service: free_port() for service in SERVICES}
        self.flight_port = free_port()
        self.settings = settings
        self.service_token = secrets.token_urlsafe(36)
        self.keys: dict[tuple[str, str, str], str] = {}
        self.keys_lock = threading.Lock()
        interceptor = ApiKeyInterceptor(self.credentials)
        self.processes = {
            service: ServiceProcess(service, self.env(service), self.ports[service], self.log_dir, interceptor)
            for service in SERVICES
        }

    def address(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def common_env(self) -> dict:
        """What the chart gives every container and the migration Job alike."""
        env = clean_env()
        env.update({
            "REDRESS_LOG__FORMAT": "human",
            # Debug for redress itself: readiness failures log at debug (kept for a service that
            # never turns SERVING), and the journey checks no personal data reaches any line.
            "REDRESS_LOG__LEVEL": "info,redress=debug,redress_kit=debug,redress_intake=debug,redress_case=debug,"
                                  "redress_escalation=debug,redress_notification=debug,redress_analytics=debug",
            "REDRESS_TELEMETRY__SAMPLING_RATIO": "1",
            "REDRESS_TELEMETRY__METRICS_INTERVAL": "30s",
            "REDRESS_DATABASE__URL": self.database.url,
            "REDRESS_DATABASE__ACQUIRE_TIMEOUT": "5s",
            "REDRESS_AUTH__MODE": "tokens",
            "REDRESS_AUTH__SERVICE_TOKEN": self.service_token,
        })
        if self.otlp is not None:
            env["REDRESS_TELEMETRY__OTLP_ENDPOINT"] = self.otlp.url
        return env

    def env(self, service: str) -> dict:
        """The environment the chart's Deployment gives `service` (redress.env), with this
        test's addresses and short timings."""
        env = self.common_env()
        env.update({
            "REDRESS_METRICS__LISTEN": f"127.0.0.1:{free_port()}",
            "REDRESS_GRPC__REQUEST_TIMEOUT": "10s",
            "REDRESS_GRPC__CONCURRENCY_LIMIT": "256",
            "REDRESS_GRPC__MAX_MESSAGE_BYTES": "4194304",
            "REDRESS_GRPC__SHUTDOWN_GRACE": "2s",
            "REDRESS_CLIENT__TIMEOUT": "2s",
            "REDRESS_CLIENT__CONNECT_TIMEOUT": "1s",
            "REDRESS_CLIENT__MAX_RETRIES": "3",
            "REDRESS_CLIENT__BACKOFF_BASE": "50ms",
            "REDRESS_CLIENT__BACKOFF_MAX": "500ms",
            "REDRESS_DATABASE__MIGRATE_ON_START": "false",
            "REDRESS_DATABASE__MAX_CONNECTIONS": "8",
            "REDRESS_PEERS__CASE": self.address("case"),
            "REDRESS_PEERS__ESCALATION": self.address("escalation"),
            "REDRESS_PEERS__NOTIFICATION": self.address("notification"),
            f"REDRESS_{service.upper()}__LISTEN": f"127.0.0.1:{self.ports[service]}",
        })
        if service in USES_REDIS:
            env["REDRESS_REDIS__URL"] = self.redis.url
            env["REDRESS_REDIS__KEY_PREFIX"] = self.redis.prefix
        if service == "analytics":
            env["REDRESS_ANALYTICS__FLIGHT_LISTEN"] = f"127.0.0.1:{self.flight_port}"
        # The service's own section (the chart's services.<service>.config and secretConfig).
        for key, value in self.settings.get(service, {}).items():
            env[f"REDRESS_{service.upper()}__{key.upper()}"] = value
        return env

    def migrate(self) -> None:
        """`redress migrate <every service>`, as the chart's pre-install Job runs it."""
        result = subprocess.run([redress_binary(), "migrate", *SERVICES], env=self.common_env(),
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"redress migrate exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")

    def credentials(self, tenant: str, name: str, roles: str) -> list:
        """The call metadata that authenticates `name` with `roles` in `tenant`."""
        if roles == "system":
            return [("authorization", f"Bearer {self.service_token}"), ("x-redress-tenant", tenant)]
        return [("authorization", f"Bearer {self.api_key(tenant, name, roles)}")]

    def api_key(self, tenant: str, name: str, roles: str) -> str:
        """The API key of `name` with `roles` in `tenant`, made with `redress apikey create` the
        first time it is asked for; the services load a key they do not know yet on its first
        use."""
        with self.keys_lock:
            if (tenant, name, roles) not in self.keys:
                result = subprocess.run(
                    [redress_binary(), "apikey", "create", "--tenant", tenant, "--roles", roles, "--name", name],
                    env=self.common_env(), capture_output=True, text=True, timeout=60)
                if result.returncode != 0:
                    pytest.fail(f"redress apikey create exited with {result.returncode}:\n{result.stderr}")
                self.keys[(tenant, name, roles)] = result.stdout.strip()
            return self.keys[(tenant, name, roles)]

    def start(self) -> None:
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            process.wait_serving()

    def __getitem__(self, service: str) -> ServiceProcess:
        return self.processes[service]

    def channel(self, service: str) -> grpc.Channel:
        return self.processes[service].channel

    def log_tails(self, lines: int = 40) -> str:
        parts = []
        for service, process in self.processes.items():
            parts.append(f"===== {service} ({process.log_path}) =====\n{process.log_tail(lines)}")
        return "\n".join(parts)

    def stop(self) -> dict:
        """SIGTERM to every process, the case service's callers first and then the case
        service (whose event streams they hold open); returns each exit code."""
        codes = {}
        for wave in (["intake", "escalation", "notification", "analytics"], ["case"]):
            running = [self.processes[s] for s in wave if self.processes[s].process is not None]
            for process in running:
                if process.alive():
                    process.process.send_signal(signal.SIGTERM)
            for process in running:
                codes[process.service] = process.terminate()
        return codes

    def close(self, keep_logs: bool = True) -> None:
        for process in self.processes.values():
            process.close()
        if not keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

