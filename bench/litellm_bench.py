"""LiteLLM's proxy as a comparison target, from its own virtual environment ``bench/.litellm-venv``.

LiteLLM is never a project dependency: ``make bench`` creates the venv and runs
``pip install 'litellm[proxy]'`` into it, writing pip's output to ``bench/.litellm-venv/install.log``. When
the ``litellm`` command is missing, ``litellm_missing_reason`` says why (the tail of that log), and the
side-by-side run reports it instead of a number.

It is configured like the gateway's route: one model alias ``bench`` pointing at the same fake upstream as
an OpenAI-compatible ``api_base``, a master key, no database, one worker process. The model cost map is the
one the package ships (``LITELLM_LOCAL_MODEL_COST_MAP``), so nothing is fetched at start-up.

``python -m bench litellm [--seconds S]`` runs only the direct-vs-LiteLLM cells of the side-by-side matrix.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from bench.procs import free_port

if TYPE_CHECKING:
    from bench.stack import Proc, Stack

__all__ = ["LITELLM_KEY", "VENV", "litellm_missing_reason", "main", "start_litellm"]

VENV = Path(__file__).resolve().parent / ".litellm-venv"
LITELLM_KEY = "sk-litellm-bench-master-0123456789"
"""LiteLLM wants its master key to start with ``sk-``."""


def litellm_missing_reason() -> str | None:
    """``None`` when the ``litellm`` command is installed, else why not (from the install log)."""
    if (VENV / "bin" / "litellm").exists():
        return None
    log = VENV / "install.log"
    if not log.exists():
        return f"{VENV}/bin/litellm not found and no install log: run `make bench` (it pip-installs litellm[proxy])"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()] or lines
    return "pip install 'litellm[proxy]' failed: " + " | ".join(errors[-3:])


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health/liveliness", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def start_litellm(stack: Stack, upstream_url: str, upstream_model: str) -> Proc:
    """``litellm --config`` with one model routed to ``upstream_url``; ready when its liveness probe answers.

    Raises:
        RuntimeError: LiteLLM is not installed (with the reason) or did not start.
    """
    reason = litellm_missing_reason()
    if reason is not None:
        raise RuntimeError(reason)
    config = {
        "model_list": [
            {
                "model_name": "bench",
                "litellm_params": {
                    "model": "openai/" + upstream_model,
                    "api_base": upstream_url + "/v1",
                    "api_key": "not-a-real-key",
                },
            }
        ],
        "general_settings": {"master_key": LITELLM_KEY},
        "litellm_settings": {"telemetry": False, "drop_params": True},
    }
    path = stack.dir / "litellm.yaml"
    path.write_bytes(msgspec.yaml.encode(config))
    port = free_port()
    argv = [str(VENV / "bin" / "litellm"), "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--num_workers", "1"]
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "NO_DOCS": "True",
    }
    url = f"http://127.0.0.1:{port}"
    return stack.spawn("litellm", argv, lambda: _alive(url), url=url, env=env, wait_s=120)


def main(argv: list[str] | None = None) -> int:
    """Direct vs LiteLLM, streaming and not, at concurrency 1, 16 and 64."""
    from bench.sidebyside import main as matrix_main

    return matrix_main(["--targets", "direct,litellm", *(argv or [])])
