"""Loading the configuration: the only module that reads the process environment.

``load_settings(path, environ)`` decodes the YAML file into the frozen ``GatewayConfig``
(unknown fields and wrong types fail with the field path), checks cross-references,
resolves every secret named by an ``*_env`` field into a ``Secret``, and returns
``Settings``. Nothing else in the project calls ``os.environ``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas.config import GatewayConfig
from schemas.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ConfigError",
    "Settings",
    "TelemetryEnvironment",
    "config_path_from_env",
    "decode_config",
    "export_config_path",
    "load_settings",
    "prepare_environment",
    "telemetry_environment",
]

_OFFLINE_DEFAULTS = {
    # tldextract (used by presidio's URL recognizer) would fetch the public suffix list otherwise.
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
}


@dataclass(frozen=True)
class TelemetryEnvironment:
    """The standard OpenTelemetry and Prometheus variables the telemetry layer honours.

    ``OTEL_TRACES_EXPORTER`` defaults to ``none`` here (the OTel default is ``otlp``): nothing
    leaves the process until the operator names an exporter. The OTLP exporter reads its own
    ``OTEL_EXPORTER_OTLP_*`` endpoint, header and timeout variables. ``noop`` is the gateway's
    own value: spans are built and batched as usual, then discarded (``proxy.telemetry.tracing``).
    """

    traces_exporters: tuple[str, ...] = ()
    """``otlp``, ``console`` and/or ``noop``; empty means no tracing (no tracer is built)."""
    otlp_protocol: str = "http/protobuf"
    """``http/protobuf`` or ``grpc`` (``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` over ``OTEL_EXPORTER_OTLP_PROTOCOL``)."""
    service_name: str | None = None
    """``OTEL_SERVICE_NAME``."""
    prometheus_multiproc_dir: str | None = None
    """``PROMETHEUS_MULTIPROC_DIR``: several worker processes share metrics through files there."""


def telemetry_environment(environ: Mapping[str, str] | None = None) -> TelemetryEnvironment:
    """Read the OTel/Prometheus variables (``OTEL_SDK_DISABLED=true`` turns tracing off)."""
    env = os.environ if environ is None else environ
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "none").split(",")]
    exporters = () if disabled else tuple(n for n in names if n and n != "none")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    return TelemetryEnvironment(
        traces_exporters=exporters,
        otlp_protocol=(protocol or "http/protobuf").strip().lower(),
        service_name=env.get("OTEL_SERVICE_NAME") or None,
        prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
    )


class ConfigError(Exception):
    """The configuration file is unreadable, malformed, or refers to things that do not exist."""


@dataclass(frozen=True)
class Settings:
    """The decoded configuration plus the secrets it names, resolved once."""

    config: GatewayConfig
    provider_keys: Mapping[str, Secret] = field(default_factory=dict)
    """Provider name -> API key, for providers whose ``api_key_env`` is set in the environment."""
    admin_digest: str | None = None
    """``sha256:<hex>`` of the admin key (from the file, or hashed from ``admin.key_env``)."""
    path: Path | None = None
    """Where the config was read from (for reloads)."""
    missing_env: tuple[str, ...] = ()
    """Environment variables the config names that are not set."""
    unconfigured_providers: frozenset[str] = frozenset()
    telemetry_env: TelemetryEnvironment = field(default_factory=TelemetryEnvironment)
    """OTel exporter choice and the Prometheus multiprocess directory, from the environment."""
    """Providers whose ``api_key_env`` is not set: their deployments are left out of routing."""


def decode_config(data: bytes) -> GatewayConfig:
    """Decode and cross-check YAML bytes.

    Raises:
        ConfigError: with the field path for every problem found.
    """
    try:
        config = msgspec.yaml.decode(data, type=GatewayConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(f"configuration is not valid YAML: {exc}") from exc
    problems = config.problems()
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config


def load_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, decode and resolve the configuration at ``path``.

    Raises:
        ConfigError: the file cannot be read or is invalid.
    """
    env = os.environ if environ is None else environ
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {source}: {exc.strerror}") from exc
    config = decode_config(data)
    keys: dict[str, Secret] = {}
    missing: list[str] = []
    unconfigured: set[str] = set()
    for provider in config.providers:
        env_name = getattr(provider, "api_key_env", None)
        if env_name is None:
            continue
        value = env.get(env_name, "")
        if value:
            keys[provider.name] = Secret(value)
        else:
            missing.append(env_name)
            unconfigured.add(provider.name)
    admin_digest = config.admin.key_digest
    if admin_digest is None and config.admin.key_env:
        admin_key = env.get(config.admin.key_env, "")
        if admin_key:
            admin_digest = "sha256:" + hashlib.sha256(admin_key.encode()).hexdigest()
        else:
            missing.append(config.admin.key_env)
    return Settings(
        config, keys, admin_digest, source, tuple(missing), frozenset(unconfigured), telemetry_environment(env)
    )


def export_config_path(settings: Settings) -> None:
    """Hand the config path to worker processes (the inverse of ``config_path_from_env``)."""
    if settings.path is not None:
        os.environ["GATEWAY_CONFIG"] = str(settings.path.resolve())


def config_path_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The config path for worker processes, which uvicorn starts from an import string."""
    env = os.environ if environ is None else environ
    path = env.get("GATEWAY_CONFIG")
    if not path:
        raise ConfigError("GATEWAY_CONFIG is not set: start the gateway with 'gateway serve --config FILE'")
    return path


def prepare_environment() -> None:
    """Set the variables that keep third-party libraries offline, unless the operator set them."""
    for name, value in _OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
