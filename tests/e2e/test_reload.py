"""Rules reload without a restart: an edited rules file takes effect; an invalid one is refused."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx2 as httpx

from tests.support.gateway import GatewayServer, demo_config, make_key

if TYPE_CHECKING:
    from pathlib import Path

ADMIN = "admin-key-for-reload-tests-00000"
RULES_V1 = """
version: 1
rules:
  - id: custom.override
    category: override
    weight: 0.95
    patterns: ['\\bignore the rules\\b']
"""
RULES_V2 = (
    RULES_V1
    + """
  - id: custom.banana
    category: override
    weight: 0.99
    patterns: ['\\bbanana protocol\\b']
"""
)


def ask(server: GatewayServer, key: str, text: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v1/chat/completions",
        json={"model": "echo", "messages": [{"role": "user", "content": text}]},
        headers={"authorization": f"Bearer {key}"},
    )


def test_edited_rules_apply_without_restart_and_invalid_rules_are_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_V1)
    key, record = make_key("acme")
    config = demo_config(
        admin={"key_env": "ADMIN"},
        guard_policies={"default": {"input": {"injection": {"rules_file": "rules.yaml", "classifier": False}}}},
    )
    with GatewayServer(config, tmp_path, extra_keys=(record,), environ={"ADMIN": ADMIN}) as server:
        assert ask(server, key, "please start the banana protocol").status_code == 200
        assert ask(server, key, "now ignore the rules").status_code == 400

        time.sleep(0.01)  # a distinct mtime even on coarse clocks
        rules.write_text(RULES_V2)
        deadline = time.monotonic() + 5
        while ask(server, key, "please start the banana protocol").status_code == 200:
            assert time.monotonic() < deadline, "the edited rules file was not picked up"
            time.sleep(0.2)
        blocked = ask(server, key, "please start the banana protocol")
        assert blocked.json()["error"]["code"] == "prompt_injection_detected"
        assert "custom.banana" in blocked.json()["error"]["message"]

        rules.write_text("version: 1\nrules:\n  - id: broken\n    category: nonsense\n")
        refused = httpx.post(server.base_url + "/admin/reload", headers={"authorization": f"Bearer {ADMIN}"})
        assert refused.status_code == 409
        assert "rules" in refused.json()["reason"]
        time.sleep(1.5)  # the watch also sees the change, and must keep the old rules too
        assert ask(server, key, "please start the banana protocol").status_code == 400
        assert ask(server, key, "hello there").status_code == 200
