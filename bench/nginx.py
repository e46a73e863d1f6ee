"""nginx (Debian package ``nginx``) as the baseline reverse proxy, and as the benchmark's OTLP sink.

nginx runs as a child process with ``-g 'daemon off;'``, a generated config and every path (pid, logs,
temp dirs) inside the run's temporary directory; nothing under /etc or /var is read or written. One worker
process, like the single gateway process it is compared with, upstream keep-alive on, response buffering
off (so streams are relayed event by event), no access log.

``python -m bench nginx [--seconds S]`` runs only the direct-vs-nginx cells of the side-by-side matrix.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import TYPE_CHECKING

from bench.procs import free_port

if TYPE_CHECKING:
    from pathlib import Path

    from bench.stack import Proc, Stack

__all__ = ["main", "nginx_binary", "start_nginx_proxy", "start_otlp_sink"]

_COMMON = """
worker_processes 1;
{user}
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 1000000;
  {body}
}}
"""

_PROXY = """
  upstream fake {{ server {upstream}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }}
  }}
"""

_SINK = """
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 64m;
    location / {{ return 200; }}
  }}
"""


def nginx_binary() -> str | None:
    """The nginx executable (Debian puts it in /usr/sbin, which may not be on PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _start(stack: Stack, name: str, body: str, port: int) -> Proc:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx not found (apt-get install nginx; `make bench` does it)")
    workdir: Path = stack.dir / name
    workdir.mkdir()
    # a root master hands its workers to "nobody", who cannot enter the private temp dir: keep root there
    user = "user root;" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(_COMMON.format(user=user, dir=workdir, body=body))
    argv = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log"), "-g", "daemon off;"]
    return stack.spawn(name, argv, lambda: _listening(port), url=f"http://127.0.0.1:{port}")


def start_nginx_proxy(stack: Stack, upstream_url: str) -> Proc:
    """nginx proxying everything to ``upstream_url`` (``http://host:port``)."""
    port = free_port()
    return _start(stack, "nginx", _PROXY.format(upstream=upstream_url.removeprefix("http://"), port=port), port)


def start_otlp_sink(stack: Stack) -> Proc:
    """nginx answering 200 to every request: a collector that discards the spans."""
    port = free_port()
    return _start(stack, "otlp-sink", _SINK.format(port=port), port)


def main(argv: list[str] | None = None) -> int:
    """Direct vs nginx, streaming and not, at concurrency 1, 16 and 64."""
    from bench.sidebyside import main as matrix_main

    return matrix_main(["--targets", "direct,nginx", *(argv or [])])
