"""``secsim ui``: serve the web workbench (Streamlit) on the loopback interface."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from simulation.errors import UsageError

DEFAULT_PORT = 8501


def register(sub) -> None:
    """Add ``secsim ui`` to the command line."""
    p = sub.add_parser(
        "ui", help="serve the web workbench on 127.0.0.1 (needs the [ui] extra)",
        description="Serves the workbench (pick a scenario, adjust it, run, compare, download "
                    "the report) on this machine only, prints its address and opens no "
                    "browser. Streamlit's usage statistics are off.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=None,
                   help=f"port (default {DEFAULT_PORT}, or a free one if it is taken)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="only print the address (Streamlit logs errors only)")
    p.set_defaults(func=cmd_ui)


def free_port(host: str, wanted: int | None) -> int:
    """``wanted`` if given, else the default port when free, else any free port."""
    if wanted is not None:
        if not 0 < wanted < 65536:
            raise UsageError(f"--port {wanted} is not a port number; give 1 to 65535")
        return wanted
    for port in (DEFAULT_PORT, 0):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise UsageError(f"cannot listen on {host}; check --host")


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no file watcher."""
    app = Path(__file__).resolve().parents[1] / "ui" / "app.py"
    return [sys.executable, "-m", "streamlit", "run", str(app),
            "--server.headless", "true", "--server.address", host, "--server.port", str(port),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal"]


def cmd_ui(args) -> int:
    """Start the Streamlit server and wait for it (Ctrl-C stops it)."""
    import importlib.util

    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the workbench needs Streamlit: pip install -e '.[ui]'")
    port = free_port(args.host, args.port)
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    print(f"secsim ui: the workbench is at http://{args.host}:{port} (Ctrl-C stops it)",
          flush=True)
    command = streamlit_command(args.host, port)
    if getattr(args, "quiet", False):
        command += ["--logger.level", "error"]
    proc = subprocess.Popen(command, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
