"""deploy/kubernetes/: valid against the Kubernetes schemas, and saying what the README promises.

`kubernetes-validate` ships the official schemas (strict variants refuse unknown fields), so this
runs offline. No cluster runs here: how the pods behave is covered by the serve tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from naftiko_runtime.discovery import discover

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The oldest release still commonly run, and the newest the package knows.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())
KUSTOMIZATION = "kustomization.yaml"


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name != KUSTOMIZATION:
            found += [(path.name, document) for document in yaml.safe_load_all(path.read_text()) if document]
    return found


def by_kind() -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    for _, document in documents():
        kinds[document["kind"]] = document
    return kinds


def container() -> dict[str, Any]:
    pod = by_kind()["Deployment"]["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    found: dict[str, Any] = pod["containers"][0]
    return found


def env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in container()["env"]}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("name", "document"), documents(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_manifest_is_valid_against_the_strict_kubernetes_schema(
    name: str, document: dict[str, Any], version: str
) -> None:
    kubernetes_validate.validate(document, version, strict=True)


def test_the_schemas_refuse_a_misspelt_field_so_validation_means_something() -> None:
    broken = by_kind()["Deployment"]
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_set_is_a_deployment_service_configmap_secret_and_autoscaler_applied_together() -> None:
    assert set(by_kind()) == {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"}
    listed = yaml.safe_load((MANIFESTS / KUSTOMIZATION).read_text())["resources"]
    on_disk = {path.name for path in MANIFESTS.glob("*.yaml")} - {KUSTOMIZATION}
    # The Secret holds a placeholder: applying the set must never overwrite the real one.
    assert set(listed) == on_disk - {"secret.yaml"}


def test_probes_ask_healthz_for_liveness_and_readyz_for_readiness_on_a_declared_port() -> None:
    serving = container()
    ports = {port["name"]: port["containerPort"] for port in serving["ports"]}
    assert ports == {"rest": 8080, "mcp": 9090}
    assert serving["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "rest"}
    assert serving["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "rest"}
    service_ports = {port["name"]: port["targetPort"] for port in by_kind()["Service"]["spec"]["ports"]}
    assert service_ports == {"rest": "rest", "mcp": "mcp"}


def test_the_pod_runs_as_non_root_on_a_read_only_root_filesystem_within_limits() -> None:
    pod = by_kind()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    serving = container()
    assert serving["securityContext"]["readOnlyRootFilesystem"] is True
    assert serving["securityContext"]["allowPrivilegeEscalation"] is False
    assert serving["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(serving["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(serving["resources"]["requests"]) & set(serving["resources"]["limits"])
    writable = {mount["mountPath"] for mount in serving["volumeMounts"] if not mount.get("readOnly")}
    assert writable == {"/tmp"}


def test_configuration_is_naftiko_variables_and_credentials_come_from_the_secret() -> None:
    variables = env()
    assert all(name.startswith("NAFTIKO_") for name in variables)
    assert variables["NAFTIKO_HOST"] == "0.0.0.0"
    assert variables["NAFTIKO_STATELESS"] == "true"  # several pods behind one Service
    assert variables["NAFTIKO_WORKERS"] == "1"  # one worker per pod: the HPA scales pods
    secret = by_kind()["Secret"]
    assert container()["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]
    assert set(secret["stringData"]) == {"KOMBO_API_KEY"}
    assert secret["stringData"]["KOMBO_API_KEY"] == "replace-me"


def test_every_variable_names_a_serve_option_with_a_value_it_accepts() -> None:
    from naftiko_runtime import cli
    from naftiko_runtime.env_config import merge, subcommand

    parser = cli._parser()
    serve = subcommand(parser, "serve")
    args = parser.parse_args(["serve", *merge(serve, ["/capabilities"], env()).argv])
    assert args.host == "0.0.0.0"
    assert args.stateless is True
    assert args.workers == 1
    assert args.log_format == "json"
    assert args.graceful_timeout < by_kind()["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert args.allowed_host[0] == f"{by_kind()['Service']['metadata']['name']}:*"


def test_the_configmap_holds_the_seed_capability_mounted_where_the_image_serves_from() -> None:
    configmap = by_kind()["ConfigMap"]
    assert configmap["data"]["kombo.yaml"] == (ROOT / "capabilities" / "kombo.yaml").read_text()
    pod = by_kind()["Deployment"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v.get("configMap", {}).get("name") == configmap["metadata"]["name"])
    mount = next(m for m in container()["volumeMounts"] if m["name"] == volume["name"])
    assert mount["mountPath"] == "/capabilities"
    assert 'CMD ["naftiko", "serve", "/capabilities"]' in (ROOT / "Dockerfile").read_text()


def test_a_configmap_mounted_as_a_directory_is_served_once(tmp_path: Path) -> None:
    """The kubelet's layout: each key a link to `..data/<key>`, `..data` a link to a hidden timestamped copy."""
    real = tmp_path / "..2026_01_01_00_00_00.000000001"
    real.mkdir()
    (real / "kombo.yaml").write_text(by_kind()["ConfigMap"]["data"]["kombo.yaml"])
    (tmp_path / "..data").symlink_to(real.name)
    (tmp_path / "kombo.yaml").symlink_to("..data/kombo.yaml")
    found = discover([tmp_path])
    assert found.capabilities == [tmp_path / "kombo.yaml"]
    assert found.skipped == []


def test_the_autoscaler_scales_the_deployment_on_cpu() -> None:
    autoscaler = by_kind()["HorizontalPodAutoscaler"]["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "naftiko"}
    assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    assert autoscaler["metrics"][0]["resource"]["name"] == "cpu"
