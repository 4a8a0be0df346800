"""The fast upstream (nginx answering canned Kombo-like JSON) and the nginx proxy_pass baseline.

Both run as foreground children (`daemon off;`) with one worker, every path they write
(pid, logs, temp files) inside the run's scratch directory, so no root paths are needed.
Without nginx, a small aiohttp server stands in for the upstream and the proxy baseline is skipped.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from procs import SERVER_CORE, Proc, Procs, free_port, wait_http

HERE = Path(__file__).resolve().parent
CANNED = (
    '{"status":"success","data":{"environment_id":"P2WPBg8Y4ErK9pGSSxY6BVSc","customer_id":"Jy9uUxcJnTPkyRFA6CAFjF1Y"}}'
)
API_KEY = "ks_bench"

_COMMON = """daemon off;
master_process on;
worker_processes 1;
pid {dir}/{name}.pid;
error_log {dir}/{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/{name}-client-body;
    proxy_temp_path {dir}/{name}-proxy;
    fastcgi_temp_path {dir}/{name}-fastcgi;
    uwsgi_temp_path {dir}/{name}-uwsgi;
    scgi_temp_path {dir}/{name}-scgi;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
{body}
}}
"""

_UPSTREAM = """    server {{
        listen 127.0.0.1:{port};
        location = /healthz {{ return 200 'ok'; }}
        location /v1/ {{
            default_type application/json;
            return 200 '{canned}';
        }}
    }}"""

_PROXY = """    upstream kombo {{
        server 127.0.0.1:{upstream_port};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location = /healthz {{ return 200 'ok'; }}
        location / {{
            proxy_pass http://kombo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer {key}";
        }}
    }}"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def _start_nginx(procs: Procs, scratch: Path, name: str, body: str) -> Proc:
    nginx = nginx_binary()
    assert nginx is not None
    conf = scratch / f"{name}.conf"
    conf.write_text(_COMMON.format(dir=scratch, name=name, body=body))
    # -e: the error log used before the configuration is read (else a root-owned default path).
    return procs.start(
        name, [nginx, "-p", str(scratch), "-e", str(scratch / f"{name}.early.log"), "-c", str(conf)], core=SERVER_CORE
    )


def start_upstream(procs: Procs, scratch: Path) -> tuple[Proc, str]:
    """Start the canned-JSON upstream; return it and its base URL (ending in /v1)."""
    port = free_port()
    if nginx_binary() is not None:
        proc = _start_nginx(procs, scratch, "upstream", _UPSTREAM.format(port=port, canned=CANNED))
    else:
        script = HERE / "baselines" / "upstream_aiohttp.py"
        proc = procs.start("upstream", [sys.executable, str(script), "--port", str(port)], core=SERVER_CORE)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc)
    return proc, f"http://127.0.0.1:{port}/v1"


def start_nginx_proxy(procs: Procs, scratch: Path, upstream_port: int) -> tuple[Proc, str]:
    port = free_port()
    body = _PROXY.format(port=port, upstream_port=upstream_port, key=API_KEY)
    proc = _start_nginx(procs, scratch, "nginx-proxy", body)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc)
    return proc, f"http://127.0.0.1:{port}"
