"""Helpers for the deployment checks: render and lint the Helm chart with the Helm library
(helm-sdkpy), build the kustomize overlays, validate objects against the Kubernetes schemas,
and ask the redress binary which configuration keys it accepts.

helm-sdkpy exposes neither `helm template` nor a dry run, and its lint takes no values and no
strict flag. So:

- Rendering is a real `helm install` (Helm's own engine, schema validation, hook handling and
  kubeVersion check) against a stand-in Kubernetes API server on 127.0.0.1 that answers
  discovery, accepts every object and reports Jobs as complete. The release Helm records
  carries the rendered manifest and hooks, exactly what `helm template` prints.
- Linting with values lints a copy of the chart whose values.yaml holds the merged values;
  "strict" fails on warnings as well as errors, as `helm lint --strict` does.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "redress"
K8S = ROOT / "k8s"
SERVICES = ("intake", "case", "escalation", "notification", "analytics")

# The Kubernetes version the stand-in API server reports; the chart requires 1.30 or later.
KUBE_VERSION = "1.30.0"

# Helm lint severities (helm.sh/helm/v4/pkg/chart/v2/lint/support).
LINT_SEVERITY = {0: "unknown", 1: "info", 2: "warning", 3: "error"}

# The API groups, versions and resources the stand-in API server serves: the chart's kinds
# and what Helm itself touches (release Secrets), plus the Prometheus Operator's CRDs.
API_RESOURCES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("", "v1"): [
        ("services", "Service"),
        ("serviceaccounts", "ServiceAccount"),
        ("secrets", "Secret"),
        ("configmaps", "ConfigMap"),
        ("pods", "Pod"),
    ],
    ("apps", "v1"): [("deployments", "Deployment")],
    ("batch", "v1"): [("jobs", "Job")],
    ("policy", "v1"): [("poddisruptionbudgets", "PodDisruptionBudget")],
    ("autoscaling", "v2"): [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    ("networking.k8s.io", "v1"): [("networkpolicies", "NetworkPolicy")],
    ("monitoring.coreos.com", "v1"): [("servicemonitors", "ServiceMonitor"), ("podmonitors", "PodMonitor")],
}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else "api/v1"


def _not_found(what: str) -> tuple[int, dict]:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}
    return 404, {**status, "message": f"{what} not found"}


class _StandInApi(BaseHTTPRequestHandler):
    """Just enough of the Kubernetes API for `helm install` to run to completion."""

    protocol_version = "HTTP/1.1"
    objects: dict[tuple[str, str, str, str], dict[str, dict]]

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(self, code: int, body: dict | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str, body: bytes | None) -> tuple[int, dict | None]:
        path, _, query = self.path.partition("?")
        major, minor = KUBE_VERSION.split(".")[:2]
        if path == "/version":
            return 200, {"major": major, "minor": minor, "gitVersion": f"v{KUBE_VERSION}", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if path == "/apis":
            groups = [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                    "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v},
                }
                for (g, v) in API_RESOURCES
                if g
            ]
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if path == "/openapi/v3":
            return 200, {"paths": {_gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}"} for g, v in API_RESOURCES}}
        if m := re.fullmatch(r"/openapi/v3/(?:api/v1|apis/([^/]+)/([^/]+))", path):
            # Declaring server-side field validation makes Helm leave validation to the
            # server; the tests validate every object against the real schemas instead.
            g, v = m.group(1) or "", m.group(2) or "v1"
            paths = {
                f"/{_gv_path(g, v)}/namespaces/{{namespace}}/{resource}/{{name}}": {
                    "patch": {
                        "x-kubernetes-group-version-kind": {"group": g, "version": v, "kind": kind},
                        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "OK"}},
                    }
                }
                for resource, kind in API_RESOURCES.get((g, v), [])
            }
            return 200, {"openapi": "3.0.0", "info": {"title": "stand-in", "version": KUBE_VERSION}, "paths": paths}
        if m := re.fullmatch(r"/api/v1|/apis/([^/]+)/([^/]+)", path):
            g, v = m.group(1) or "", m.group(2) or "v1"
            if (g, v) not in API_RESOURCES:
                return _not_found(path)
            resources = [
                {
                    "name": resource,
                    "singularName": kind.lower(),
                    "namespaced": True,
                    "kind": kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                }
                for resource, kind in API_RESOURCES[(g, v)]
            ]
            return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{g}/{v}" if g else v, "resources": resources}
        m = re.fullmatch(
            r"/api/v1/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?|/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?",
            path,
        )
        if not m:
            return _not_found(path)
        if m.group(2):
            g, v, ns, resource, name = "", "v1", m.group(1), m.group(2), m.group(3)
        else:
            g, v, ns, resource, name = m.group(4), m.group(5), m.group(6), m.group(7), m.group(8)
        stored = self.objects.setdefault((g, v, ns, resource), {})
        if method == "GET" and name:
            return (200, stored[name]) if name in stored else _not_found(name)
        if method == "GET" and re.search(r"(^|&)watch=(true|1)", query):
            return 200, None  # an empty watch: the client lists again
        if method == "GET":
            api_version = f"{g}/{v}" if g else "v1"
            return 200, {"kind": "List", "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": list(stored.values())}
        if method == "POST":
            try:
                obj = json.loads(body or b"{}")
            except ValueError:
                # Helm's release records arrive as protobuf; only their name matters here.
                found = re.search(rb"sh\.helm\.release\.v1\.[a-z0-9.-]+", body or b"")
                obj = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": found.group(0).decode() if found else "release"}}
            meta = obj.setdefault("metadata", {})
            meta.update(resourceVersion="1", uid=f"uid-{meta.get('name')}", namespace=ns)
            if obj.get("kind") == "Job":
                obj["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
            stored[meta["name"]] = obj
            return 201, obj
        if method in ("PUT", "PATCH"):
            return (200, stored[name]) if name in stored else _not_found(name)
        if method == "DELETE":
            return (200, stored.pop(name)) if name in stored else _not_found(name)
        return _not_found(path)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        code, reply = self._route(method, body)
        self._reply(code, reply)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hang up on empty watches; that is expected


class RenderError(Exception):
    """Helm refused to render the chart (schema, template or kubeVersion failure)."""


def render(values: dict | None = None, release: str = "redress", namespace: str = "redress") -> list[dict]:
    """The chart's objects for `values`, hooks included, as `helm template` would print them."""
    import helm_sdkpy

    handler = type("Api", (_StandInApi,), {"objects": {}})
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stand-in", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
            "users": [{"name": "stand-in", "user": {"token": "stand-in"}}],
            "contexts": [{"name": "stand-in", "context": {"cluster": "stand-in", "user": "stand-in", "namespace": namespace}}],
            "current-context": "stand-in",
        }
    )
    try:
        config = helm_sdkpy.Configuration(namespace=namespace, kubeconfig=kubeconfig)
        try:
            release_info = asyncio.run(
                helm_sdkpy.Install(config).run(release, str(CHART), values=values or None, wait=False, timeout=60)
            )
        except helm_sdkpy.HelmError as e:
            raise RenderError(str(e)) from e
    finally:
        server.shutdown()
        server.server_close()
    manifests = [release_info.get("manifest") or ""]
    manifests += [hook["manifest"] for hook in release_info.get("hooks") or []]
    return [doc for text in manifests for doc in yaml.safe_load_all(text) if doc]


def merge(base: dict, override: dict) -> dict:
    """`override` deep-merged over `base`, as Helm merges values (None deletes a key)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def lint(values: dict | None = None, strict: bool = True) -> list[tuple[str, str]]:
    """Lints the chart with `values` merged over its defaults; returns the findings that fail
    (errors, and warnings too when strict) as (severity, path)."""
    import helm_sdkpy

    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        chart = pathlib.Path(tmp) / "redress"
        shutil.copytree(CHART, chart)
        (chart / "values.yaml").write_text(yaml.safe_dump(merge(defaults, values or {}), sort_keys=False))
        config = helm_sdkpy.Configuration(namespace="redress", kubeconfig="/dev/null")
        result = asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))
    floor = 2 if strict else 3
    return [
        (LINT_SEVERITY.get(m["Severity"], str(m["Severity"])), m["Path"])
        for m in result.get("Messages") or []
        if m["Severity"] >= floor
    ]


def kustomize(path: pathlib.Path) -> list[dict]:
    """The objects `kubectl kustomize` builds from `path`."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RuntimeError("kubectl not found: python3 -m pip install -r tests/deploy/requirements.txt")
    out = subprocess.run([kubectl, "kustomize", str(path)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def schema_versions(minimum: str = KUBE_VERSION) -> list[str]:
    """The Kubernetes versions kubernetes-validate ships schemas for, from `minimum` on."""
    import kubernetes_validate.utils as kv
    from packaging.version import Version

    return sorted({v for v in kv.all_versions() if Version(v) >= Version(minimum)}, key=Version)


def validate(objects: list[dict], versions: list[str], skip_kinds: frozenset[str]) -> list[str]:
    """Validates each object against the strict Kubernetes schemas of each version; returns the
    problems, one line each. Kinds in `skip_kinds` (CRDs without bundled schemas) are skipped."""
    import kubernetes_validate

    problems = []
    for obj in objects:
        if obj["kind"] in skip_kinds:
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(str(p) for p in e.path)
                problems.append(f"{version} {obj['kind']}/{obj['metadata']['name']} at {where}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                problems.append(f"{version} {obj['kind']}/{obj['metadata']['name']}: {e.message}")
    return problems


def redress_binary() -> str | None:
    """$REDRESS_BIN, else the debug build, if it is there."""
    path = os.environ.get("REDRESS_BIN", str(ROOT / "target" / "debug" / "redress"))
    return path if os.access(path, os.X_OK) else None


def clean_env() -> dict[str, str]:
    """The environment without any redress configuration."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REDRESS_")}


def run_config(binary: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`redress config` with exactly the given `REDRESS_…` variables."""
    return subprocess.run(
        [binary, "config"], env={**clean_env(), **env}, capture_output=True, text=True, timeout=60
    )


def flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """A nested TOML table as dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def accepted_keys(binary: str) -> dict[str, Any]:
    """Every configuration key the binary has, with its default, from `redress config`."""
    done = run_config(binary, {})
    if done.returncode != 0:
        raise RuntimeError(f"redress config failed: {done.stderr.strip()}")
    return flatten(tomllib.loads(done.stdout))


def env_name(key: str) -> str:
    """`case.database_url` → `REDRESS_CASE__DATABASE_URL`."""
    return "REDRESS_" + key.upper().replace(".", "__")


def containers(objects: list[dict]) -> list[tuple[dict, dict]]:
    """(workload, container) for every container of every Deployment and Job."""
    found = []
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            spec = obj["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                found.append((obj, container))
    return found


# Stand-ins for values read from Secrets: well-formed, so `redress config` checks the rest.
SECRET_STAND_INS = {
    "database_url": "postgres://redress:secret@postgresql.example.internal:5432/redress",
    "flight_reader_url": "postgres://redress_analytics_reader:secret@postgresql.example.internal:5432/redress",
    "redis.url": "redis://redis.example.internal:6379",
    "database.url": "postgres://redress:secret@postgresql.example.internal:5432/redress",
    "smtp_url": "smtp://mailer:secret@mail.example.internal:587?tls=starttls",
    "sms_url": "https://sms.example.internal/{account}/messages",
    "survey_url": "https://survey.example.internal/{reference}",
    "auth.service_token": "a-stand-in-service-token-of-48-characters-length",
}


def container_env(container: dict) -> dict[str, str]:
    """A container's `REDRESS_…` environment, Secret references replaced by stand-in values."""
    env = {}
    for var in container.get("env", []):
        name = var["name"]
        if not name.startswith("REDRESS_"):
            continue
        if "value" in var:
            env[name] = var["value"]
        else:
            key = name.removeprefix("REDRESS_").lower().replace("__", ".")
            env[name] = next(
                (v for suffix, v in SECRET_STAND_INS.items() if key == suffix or key.endswith("." + suffix)),
                "stand-in-secret",
            )
    return env
