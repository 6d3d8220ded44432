"""`secsim ui` starts Streamlit on the loopback interface, headless, without telemetry."""

from __future__ import annotations

import socket

from simulation.cli.main import build_parser
from simulation.cli.ui import DEFAULT_PORT, free_port, streamlit_command


def test_defaults_are_loopback_and_no_telemetry():
    args = build_parser().parse_args(["ui"])
    assert args.host == "127.0.0.1" and args.port is None
    cmd = streamlit_command("127.0.0.1", 8765)
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert cmd[2:4] == ["streamlit", "run"] and cmd[4].endswith("simulation/ui/app.py")
    assert opts["--server.address"] == "127.0.0.1" and opts["--server.port"] == "8765"
    assert opts["--server.headless"] == "true"  # opens no browser
    assert opts["--browser.gatherUsageStats"] == "false"


def test_a_taken_default_port_gives_a_free_one():
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", DEFAULT_PORT))
        except OSError:
            pass  # taken already: the point of the test
        port = free_port("127.0.0.1", None)
    assert port != DEFAULT_PORT and port > 0
    assert free_port("127.0.0.1", 9999) == 9999
