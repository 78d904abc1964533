"""Rewrites k8s/base from the Helm chart's default render, without Helm's bookkeeping (the
chart label, managed-by and hook annotations): one file per component.

    python3 tests/deploy/render_base.py

test_chart.py checks that k8s/base and the chart agree; run this after changing the chart.
"""

import pathlib
import sys

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploykit as kit  # noqa: E402

HEADERS = {
    "intake": "intake: validates and classifies complaints from every channel and opens cases.",
    "case": "case: the system of record and its ordered event stream.",
    "escalation": "escalation: SLA clocks (deadlines in Redis) and escalation ladders.",
    "notification": "notification: email, SMS, webhooks and call tasks.",
    "analytics": "analytics: reports over gRPC and Arrow Flight SQL for BI tools.",
    "migrate": "migrate: applies the database migrations of every service. Run it to completion\n"
    "# before the services roll out (see k8s/README.md); a Job cannot be changed in place, so delete\n"
    "# the finished one before applying a new version.",
}
ORDER = {"ServiceAccount": 0, "Service": 1, "Deployment": 2, "Job": 2, "PodDisruptionBudget": 3, "NetworkPolicy": 4}


class Dumper(yaml.SafeDumper):
    """Indented sequences, and double quotes only where a plain scalar would not be a string."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, data):
    implicit = dumper.resolve(yaml.ScalarNode, data, (True, False))
    style = '"' if data == "" or implicit != "tag:yaml.org,2002:str" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, _str)


def without_helm(obj: dict) -> dict:
    for meta in (obj["metadata"], obj.get("spec", {}).get("template", {}).get("metadata", {})):
        labels = meta.get("labels", {})
        labels.pop("helm.sh/chart", None)
        labels.pop("app.kubernetes.io/managed-by", None)
        annotations = {k: v for k, v in meta.pop("annotations", {}).items() if not k.startswith("helm.sh/")}
        if annotations:
            meta["annotations"] = annotations
    return obj


def main() -> None:
    by_component: dict[str, list[dict]] = {}
    for obj in kit.render({}):
        obj = without_helm(obj)
        by_component.setdefault(obj["metadata"]["labels"]["app.kubernetes.io/component"], []).append(obj)
    base = kit.K8S / "base"
    for component, objects in by_component.items():
        objects.sort(key=lambda o: ORDER[o["kind"]])
        text = f"# {HEADERS[component]}\n# Kept equal to the Helm chart's default render (tests/deploy checks it).\n"
        text += "".join("---\n" + yaml.dump(o, Dumper=Dumper, sort_keys=False, width=110) for o in objects)
        (base / f"{component}.yaml").write_text(text)
        print(f"wrote {base / component}.yaml")


if __name__ == "__main__":
    main()
