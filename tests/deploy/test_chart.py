"""The deployment: the Helm chart (linted and rendered by the Helm library), the kustomize
manifests, both validated against the Kubernetes schemas, and their configuration checked
against what the redress binary accepts."""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
import yaml

import deploykit as kit

SERVICES = kit.SERVICES
PORTS = {"intake": 50052, "case": 50053, "escalation": 50054, "notification": 50055, "analytics": 50056}
# The gRPC calls between services, and so the only paths between their pods.
CALLS = {
    ("intake", "case"),
    ("escalation", "case"),
    ("escalation", "notification"),
    ("notification", "case"),
    ("notification", "escalation"),
    ("analytics", "case"),
}
# CRDs of the Prometheus Operator: no schemas ship with kubernetes-validate.
CRD_KINDS = frozenset({"ServiceMonitor", "PodMonitor"})
# Keys of a service's section that the chart sets itself.
CHART_MANAGED_KEYS = {"listen", "database_url", "flight_listen", "flight_reader_url"}

# Every service autoscaled, with its own settings, Secrets and overrides.
ALL_ON_SERVICES = kit.merge(
    {
        name: {
            "autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80},
            "podDisruptionBudget": {"maxUnavailable": "25%"},
        }
        for name in SERVICES
    },
    {
        "intake": {"config": {"rate_limit_per_second": 120.5, "rate_limit_burst": 200, "repeat_contact_window": "12h"}},
        "case": {"database": {"existingSecret": "redress-case-database", "existingSecretKey": "uri"}},
        "escalation": {"config": {"timer_workers": 4, "claim_visibility": "45s"}},
        "notification": {
            "config": {"email_from": "Customer Care <care@example.com>", "allow_http": False, "retry_max_attempts": 8},
            "secretConfig": {
                "smtp_url": {"name": "redress-smtp", "key": "url"},
                "webhook_signing_key": {"name": "redress-webhooks", "key": "signing-key"},
            },
        },
        "analytics": {
            "flight": {"readerUrlSecret": {"name": "redress-analytics-reader", "key": "url"}},
            "config": {"flight_max_rows": 100000, "flight_statement_timeout": "1m"},
        },
    },
)

VALUE_SETS = {
    "defaults": {},
    "all-on": {
        "telemetry": {"otlpEndpoint": "http://otel-collector.observability:4317", "samplingRatio": 0.25},
        "log": {"format": "json", "level": "info,redress_case=debug"},
        "metrics": {"serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True, "labels": {"release": "prom"}}},
        "imagePullSecrets": [{"name": "registry"}],
        "extraVolumes": [{"name": "postgres-ca", "secret": {"secretName": "postgres-ca"}}],
        "extraVolumeMounts": [{"name": "postgres-ca", "mountPath": "/etc/redress/postgres-ca", "readOnly": True}],
        "commonLabels": {"team": "care"},
        "services": ALL_ON_SERVICES,
    },
    "intake-and-case-only": {
        "services": {name: {"enabled": False} for name in ("escalation", "notification", "analytics")},
    },
    "autoscaling-off": {
        "services": {name: {"autoscaling": {"enabled": False}, "replicaCount": 3} for name in SERVICES},
        "networkPolicy": {"enabled": False},
        "preStopSleepSeconds": 0,
    },
    "tls-on": {
        "tls": {"enabled": True, "secretName": "redress-tls"},
    },
    "monitoring-on": {
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}, "podMonitor": {"enabled": True}},
        "migrations": {"enabled": False},
        "services": {"analytics": {"flight": {"enabled": False}}},
    },
}

BROKEN_VALUES = {
    "replicas as a string": {"services": {"case": {"replicaCount": "two"}}},
    "an unknown service": {"services": {"billing": {"enabled": True}}},
    "an unknown top-level value": {"replicaCount": 2},
    "an unknown configuration key": {"services": {"case": {"config": {"colour": "blue"}}}},
    "a key of another service": {"services": {"intake": {"config": {"timer_workers": 2}}}},
    "a log format the binary refuses": {"log": {"format": "xml"}},
    "a port out of range": {"services": {"intake": {"port": 70000}}},
    "a sampling ratio above 1": {"telemetry": {"samplingRatio": 1.5}},
}


def merged_values(name: str) -> dict:
    defaults = yaml.safe_load((kit.CHART / "values.yaml").read_text())
    return kit.merge(defaults, VALUE_SETS[name])


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: kit.render(values) for name, values in VALUE_SETS.items()}


@pytest.fixture(scope="module")
def overlays() -> dict[str, list[dict]]:
    return {name: kit.kustomize(kit.K8S / "overlays" / name) for name in ("dev", "production")}


@pytest.fixture(scope="module")
def binary() -> str:
    path = kit.redress_binary()
    if path is None:
        pytest.fail("no redress binary at $REDRESS_BIN or target/debug/redress: run `cargo build -p redress` first")
    return path


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def component(obj: dict) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --- the chart --------------------------------------------------------------------------


@pytest.mark.parametrize("name", VALUE_SETS)
def test_chart_lints_strictly(name):
    findings = kit.lint(VALUE_SETS[name], strict=True)
    assert findings == [], f"helm lint (strict) with {name} values: {findings}"


@pytest.mark.parametrize("case", BROKEN_VALUES)
def test_schema_refuses_broken_values(case):
    values = BROKEN_VALUES[case]
    findings = kit.lint(values, strict=False)
    assert ("error", "values.yaml") in findings, f"lint accepted {case}: {findings}"
    with pytest.raises(kit.RenderError, match="schema"):
        kit.render(values)


def test_schema_names_exactly_the_five_services():
    schema = json.loads((kit.CHART / "values.schema.json").read_text())
    services = schema["properties"]["services"]
    assert services["additionalProperties"] is False
    assert sorted(services["properties"]) == sorted(SERVICES)
    assert schema["additionalProperties"] is False
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_chart(rendered, name):
    objects = rendered[name]
    values = merged_values(name)
    enabled = [s for s in SERVICES if values["services"][s]["enabled"]]
    deployments = by_kind(objects, "Deployment")
    services = by_kind(objects, "Service")
    accounts = by_kind(objects, "ServiceAccount")
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    pdbs = by_kind(objects, "PodDisruptionBudget")
    policies = by_kind(objects, "NetworkPolicy")
    assert sorted(component(d) for d in deployments.values()) == sorted(enabled)

    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "redress"
        assert labels["app.kubernetes.io/instance"] == "redress"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "redress"
        assert labels["app.kubernetes.io/component"] in (*SERVICES, "migrate")

    for svc in enabled:
        settings = values["services"][svc]
        name_ = f"redress-{svc}"
        deployment = deployments[name_]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == ["serve", svc]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["grpc"] == settings["port"] == PORTS[svc]
        assert ports["metrics"] == 9464
        env = env_of(container)
        tls = values["tls"]["enabled"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if tls:
                # The kubelet's gRPC probe speaks no TLS: the plaintext metrics port answers.
                assert container[probe]["httpGet"] == {"path": "/readyz", "port": "metrics"}, probe
                assert "grpc" not in container[probe]
            else:
                assert container[probe]["grpc"] == {"port": ports["grpc"], "service": ""}, probe
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        if tls:
            assert mounts["tls"] == {"name": "tls", "mountPath": "/etc/redress/tls", "readOnly": True}
            assert volumes["tls"] == {"name": "tls", "secret": {"secretName": values["tls"]["secretName"]}}
            assert {k: env[f"REDRESS_TLS__{k}"]["value"] for k in ("CERT_FILE", "KEY_FILE", "CA_FILE")} == {
                "CERT_FILE": "/etc/redress/tls/tls.crt", "KEY_FILE": "/etc/redress/tls/tls.key",
                "CA_FILE": "/etc/redress/tls/ca.crt"}
        else:
            assert "tls" not in mounts and "tls" not in volumes
            assert not [name for name in env if name.startswith("REDRESS_TLS__")]
        listen = env[kit.env_name(f"{svc}.listen")]["value"]
        assert int(listen.rsplit(":", 1)[1]) == ports["grpc"]
        assert env["REDRESS_DATABASE__MIGRATE_ON_START"]["value"] == "false"
        assert env["REDRESS_DATABASE__URL"]["valueFrom"]["secretKeyRef"] == {"name": "redress-database", "key": "url"}
        own_database = settings["database"]
        if own_database["existingSecret"]:
            ref = env[kit.env_name(f"{svc}.database_url")]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": own_database["existingSecret"], "key": own_database["existingSecretKey"]}
        for key, secret in settings["secretConfig"].items():
            assert env[kit.env_name(f"{svc}.{key}")]["valueFrom"]["secretKeyRef"] == secret
        assert env["REDRESS_METRICS__LISTEN"]["value"] == "0.0.0.0:9464"
        assert env["REDRESS_LOG__FORMAT"]["value"] == values["log"]["format"]
        for peer in ("case", "escalation", "notification"):
            url = urllib.parse.urlsplit(env[f"REDRESS_PEERS__{peer.upper()}"]["value"])
            scheme = "https" if tls else "http"
            assert (url.scheme, url.hostname, url.port) == (scheme, f"redress-{peer}", PORTS[peer])
        for var in container["env"]:
            value = var.get("value", "")
            assert not re.search(r"://[^/\s]*:[^/\s]*@", value), f"a credential inline in {var['name']}"
        if svc in ("intake", "escalation"):
            assert env["REDRESS_REDIS__URL"]["valueFrom"]["secretKeyRef"]["name"] == "redress-redis"
        else:
            assert "REDRESS_REDIS__URL" not in env
        if svc == "analytics":
            flight = settings["flight"]
            assert env["REDRESS_ANALYTICS__FLIGHT_LISTEN"]["value"] == (f"0.0.0.0:{flight['port']}" if flight["enabled"] else "")
            assert ("flight" in ports) == flight["enabled"]
            reader = flight["readerUrlSecret"]
            if reader["name"]:
                assert env["REDRESS_ANALYTICS__FLIGHT_READER_URL"]["valueFrom"]["secretKeyRef"] == reader
            else:
                assert "REDRESS_ANALYTICS__FLIGHT_READER_URL" not in env

        # Security: non-root, read-only root filesystem, nothing to escalate with.
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"] and sc["runAsNonRoot"] is True
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in pod["volumes"])
        assert pod["enableServiceLinks"] is False, "service links would inject unknown REDRESS_ variables"
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] in accounts
        grace = int(env["REDRESS_GRPC__SHUTDOWN_GRACE"]["value"].removesuffix("s"))
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] > grace + pre_stop
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        spread = pod["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        assert all(c["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == svc for c in spread)

        service = services[name_]
        service_ports = {p["name"]: p for p in service["spec"]["ports"]}
        assert service_ports["grpc"]["port"] == ports["grpc"] and service_ports["grpc"]["targetPort"] == "grpc"
        assert "metrics" in service_ports
        if svc == "analytics" and settings["flight"]["enabled"]:
            assert service_ports["flight"]["port"] == 50057
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]

        if settings["autoscaling"]["enabled"]:
            assert "replicas" not in deployment["spec"]
            assert hpas[name_]["spec"]["scaleTargetRef"]["name"] == name_
        else:
            assert deployment["spec"]["replicas"] == settings["replicaCount"]
            assert name_ not in hpas
        assert (name_ in pdbs) == settings["podDisruptionBudget"]["enabled"]
        assert (name_ in policies) == values["networkPolicy"]["enabled"]

    migrate = by_kind(objects, "Job")
    if values["migrations"]["enabled"]:
        job = migrate["redress-migrate"]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert "hook-succeeded" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["migrate", *enabled]
        job_env = env_of(container)
        for svc in enabled:
            if values["services"][svc]["database"]["existingSecret"]:
                assert "valueFrom" in job_env[kit.env_name(f"{svc}.database_url")]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        hook_account = job["spec"]["template"]["spec"]["serviceAccountName"]
        assert accounts[hook_account]["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    else:
        assert migrate == {}

    for kind, key in (("ServiceMonitor", "serviceMonitor"), ("PodMonitor", "podMonitor")):
        monitors = by_kind(objects, kind)
        assert len(monitors) == (len(enabled) if values["metrics"][key]["enabled"] else 0)


def allowed_paths(policies: dict[str, dict]) -> set[tuple[str, str]]:
    """(from, to) pairs of services that the NetworkPolicies let through, on both ends."""
    ingress, egress = set(), set()
    for policy in policies.values():
        own = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                other = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
                if other and "namespaceSelector" not in peer:
                    ingress.add((other, own))
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                other = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
                if other in SERVICES and "namespaceSelector" not in peer:
                    egress.add((own, other))
    assert ingress == egress, f"one-sided paths: {ingress ^ egress}"
    return ingress


def test_network_policies_allow_only_the_calls(rendered):
    policies = by_kind(rendered["defaults"], "NetworkPolicy")
    assert allowed_paths(policies) == CALLS
    case = policies["redress-case"]["spec"]
    assert case["ingress"][0] == {"from": [{"namespaceSelector": {}}], "ports": [{"port": "grpc", "protocol": "TCP"}]}
    analytics = policies["redress-analytics"]["spec"]
    assert any(p == {"port": "flight", "protocol": "TCP"} for r in analytics["ingress"] for p in r["ports"])

    def egress_ports(name):
        return {p["port"] for rule in policies[name]["spec"]["egress"] for p in rule["ports"]}

    for svc in SERVICES:
        ports = egress_ports(f"redress-{svc}")
        assert {53, 5432} <= ports
        assert (6379 in ports) == (svc in ("intake", "escalation"))
        assert ({25, 465, 587, 443} <= ports) == (svc == "notification")
    assert egress_ports("redress-migrate") == {53, 5432}
    # With telemetry on, every service may reach the collector.
    for svc in SERVICES:
        ports = {p["port"] for rule in by_kind(rendered["all-on"], "NetworkPolicy")[f"redress-{svc}"]["spec"]["egress"] for p in rule["ports"]}
        assert 4317 in ports
    # Disabled services are neither called nor allowed.
    only = by_kind(rendered["intake-and-case-only"], "NetworkPolicy")
    assert allowed_paths(only) == {("intake", "case")}


def test_chart_objects_validate_against_kubernetes_schemas(rendered):
    versions = kit.schema_versions("1.30.0")
    assert versions[0] == "1.30.0", versions
    problems = []
    for name, objects in rendered.items():
        problems += [f"{name}: {p}" for p in kit.validate(objects, versions, CRD_KINDS)]
    assert problems == []
    skipped = {o["kind"] for objects in rendered.values() for o in objects if o["kind"] in CRD_KINDS}
    assert skipped == CRD_KINDS  # rendered, and skipped only by name


# --- the kustomize manifests ------------------------------------------------------------


def normalised(objects: list[dict]) -> dict[tuple[str, str], dict]:
    """Objects without Helm's bookkeeping (chart label, managed-by, hook annotations)."""
    out = {}
    for obj in objects:
        obj = json.loads(json.dumps(obj))
        for meta in (obj["metadata"], obj.get("spec", {}).get("template", {}).get("metadata", {})):
            labels = meta.get("labels", {})
            labels.pop("helm.sh/chart", None)
            labels.pop("app.kubernetes.io/managed-by", None)
            annotations = {k: v for k, v in meta.get("annotations", {}).items() if not k.startswith("helm.sh/")}
            meta.pop("annotations", None)
            if annotations:
                meta["annotations"] = annotations
        out[(obj["kind"], obj["metadata"]["name"])] = obj
    return out


def test_kustomize_base_matches_the_chart_defaults(rendered):
    base = normalised(kit.kustomize(kit.K8S / "base"))
    chart = normalised(rendered["defaults"])
    assert sorted(base) == sorted(chart)
    for key in chart:
        assert base[key] == chart[key], f"k8s/base differs from the chart's {key[0]} {key[1]}: run tests/deploy/render_base.py"


def test_overlays(overlays):
    dev, prod = overlays["dev"], overlays["production"]
    for objects in (dev, prod):
        assert len(by_kind(objects, "Deployment")) == 5
        for deployment in by_kind(objects, "Deployment").values():
            pod = deployment["spec"]["template"]["spec"]
            assert pod["enableServiceLinks"] is False
            assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True

    assert by_kind(dev, "HorizontalPodAutoscaler") == {}
    for deployment in by_kind(dev, "Deployment").values():
        assert deployment["spec"]["replicas"] == 1
        assert env_of(deployment["spec"]["template"]["spec"]["containers"][0])["REDRESS_LOG__FORMAT"]["value"] == "human"
    # The dev overlay's Secrets are generated, and referenced under their generated names.
    dev_secrets = by_kind(dev, "Secret")
    assert dev_secrets, "the dev overlay generates its database and Redis Secrets"
    for _, container in kit.containers(dev):
        for var in container["env"]:
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] in dev_secrets, ref

    hpas = by_kind(prod, "HorizontalPodAutoscaler")
    pdbs = by_kind(prod, "PodDisruptionBudget")
    assert sorted(hpas) == sorted(by_kind(prod, "Deployment")) == sorted(pdbs)
    for name, deployment in by_kind(prod, "Deployment").items():
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        assert hpas[name]["spec"]["minReplicas"] >= 3
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert env_of(container)["REDRESS_LOG__FORMAT"]["value"] == "json"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    assert by_kind(prod, "Secret") == {}, "production references Secrets; it never creates them"


def test_overlay_objects_validate_against_kubernetes_schemas(overlays):
    versions = kit.schema_versions("1.30.0")
    problems = []
    for name, objects in overlays.items():
        problems += [f"{name}: {p}" for p in kit.validate(objects, versions, CRD_KINDS)]
    assert problems == []


# --- the configuration the binary accepts -----------------------------------------------


def all_objects(rendered, overlays) -> list[tuple[str, list[dict]]]:
    return [(f"chart {n}", o) for n, o in rendered.items()] + [(f"k8s/overlays/{n}", o) for n, o in overlays.items()]


def test_every_redress_variable_is_a_key_the_binary_accepts(rendered, overlays, binary):
    keys = kit.accepted_keys(binary)
    accepted = {kit.env_name(k) for k in keys}
    for where, objects in all_objects(rendered, overlays):
        text = yaml.safe_dump_all(objects)
        named = set(re.findall(r"\bREDRESS_[A-Z0-9_]+", text))
        unknown = named - accepted
        assert not unknown, f"{where}: variables the binary would refuse: {sorted(unknown)}"
        for workload, container in kit.containers(objects):
            env = kit.container_env(container)
            done = kit.run_config(binary, env)
            assert done.returncode == 0, f"{where} {workload['metadata']['name']}: {done.stderr.strip()}"
            if workload["kind"] != "Deployment":
                continue
            # The probes and the container's grpc port are where the binary listens.
            svc = container["args"][1]
            effective = kit.flatten(kit.tomllib.loads(done.stdout))
            listen_port = int(effective[f"{svc}.listen"].rsplit(":", 1)[1])
            grpc_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
            assert listen_port == grpc_port
            probes = [container[p] for p in ("readinessProbe", "livenessProbe", "startupProbe")]
            if effective["tls.cert_file"]:
                assert all(p["httpGet"]["port"] == "metrics" for p in probes), probes
            else:
                assert all(p["grpc"]["port"] == grpc_port for p in probes), probes
            assert effective["database.migrate_on_start"] is (where == "k8s/overlays/dev")
            metrics_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "metrics")
            assert effective["metrics.listen"].endswith(f":{metrics_port}")
            if svc == "analytics" and effective["analytics.flight_listen"]:
                flight_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "flight")
                assert effective["analytics.flight_listen"].endswith(f":{flight_port}")


def test_schema_config_keys_are_the_binary_keys(binary):
    keys = kit.accepted_keys(binary)
    schema = json.loads((kit.CHART / "values.schema.json").read_text())
    for svc in SERVICES:
        section = {k.split(".", 1)[1] for k in keys if k.startswith(f"{svc}.")}
        service = schema["properties"]["services"]["properties"][svc]["properties"]
        for field in ("config", "secretConfig"):
            assert set(service[field]["properties"]) == section - CHART_MANAGED_KEYS, f"services.{svc}.{field}"
        for key, prop in service["config"]["properties"].items():
            default = keys[f"{svc}.{key}"]
            expected = {bool: "boolean", int: "integer", float: "number", str: "string"}[type(default)]
            assert prop["type"] == expected, f"services.{svc}.config.{key}"


# --- the documentation -------------------------------------------------------------------


def test_readme_documents_every_value():
    readme = (kit.CHART / "README.md").read_text()
    documented = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    values = yaml.safe_load((kit.CHART / "values.yaml").read_text())

    def leaves(node, path):
        if isinstance(node, dict) and node:
            for key, value in node.items():
                yield from leaves(value, [*path, key])
        else:
            yield path

    undocumented = set()
    for path in leaves(values, []):
        if path[0] == "services":
            path = ["services", "analytics" if path[2] == "flight" else "<name>", *path[2:]]
        if not any(".".join(path[:n]) in documented for n in range(1, len(path) + 1)):
            undocumented.add(".".join(path))
    assert not undocumented, f"values missing from charts/redress/README.md: {sorted(undocumented)}"
    stale = {d for d in documented if d.split(".")[0] not in values}
    assert not stale, f"README documents values that do not exist: {sorted(stale)}"
