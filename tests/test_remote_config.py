"""fleet.yaml ``hosts:``: a remote agent's launch names its host and a path on that host."""

from __future__ import annotations

from pathlib import Path

from fleet_tui.config.loader import load_config_text
from fleet_tui.config.programs import missing_programs
from fleet_tui.config.resolve import resolve_agents

TEXT = """\
fleet: spread
hosts:
  - {name: gpu, ssh: me@gpu.example, port: 2222, identity: ~/.ssh/fleet, python: /opt/py/bin/python}
  - {name: spare, ssh: 10.0.0.7}
agents:
  - {name: here, command: [x]}
  - {name: there, command: [x], host: gpu}
  - {name: deep, command: [x], host: spare, cwd: /srv/work}
  - {name: coder, command: [claude], host: gpu}
"""


def test_hosts_load_and_agents_keep_their_host_and_remote_cwd(tmp_path: Path) -> None:
    config = load_config_text(TEXT)
    gpu, spare = config.hosts
    assert (gpu.name, gpu.ssh, gpu.port, gpu.identity, gpu.python) == (
        "gpu", "me@gpu.example", 2222, "~/.ssh/fleet", "/opt/py/bin/python")
    assert (spare.port, spare.identity, spare.python) == (None, "", "python3")
    launches = {lc.name: lc for lc in resolve_agents(config, tmp_path)}
    assert (launches["here"].host, launches["here"].cwd) == ("", str(tmp_path))
    assert (launches["there"].host, launches["there"].cwd) == ("gpu", "")  # the login folder
    assert (launches["deep"].host, launches["deep"].cwd) == ("spare", "/srv/work")
    # hooks run on the host, by the host's Python
    assert "/opt/py/bin/python -m fleet_tui.cli hook claude" in " ".join(launches["coder"].command)
    assert [w.split("'")[1] for w in missing_programs(config, tmp_path)] == ["here"]  # not looked up here
