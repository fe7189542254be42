"""The commented starter fleet.yaml that ``fleet-tui init`` writes."""

from __future__ import annotations

STARTER_YAML = """\
# fleet.yaml: a fleet of coding agents for fleet-tui.
# Check it with `fleet-tui validate`; `fleet-tui schema` prints its JSON Schema (see README).
fleet: my-fleet

defaults:
  cwd: .                 # relative paths are taken from this file's folder
  stall_after: 10m       # no output for this long while holding a task = stalled
  max_tasks: 1           # tasks an agent holds at once
  restart: never         # never | on-failure | always

agents:
  # The bundled demo agent: runs offline, no login. Delete it once your real agents work.
  - name: demo
    roles: [developer]
    command: ["python", "-m", "fleet_tui.demo_agent", "--role", "developer"]
    preset: demo
    model: demo

  # Claude Code (needs `claude` installed and logged in). Add `fleet-tui hooks claude`
  # to its settings for exact statuses.
  # - name: claude
  #   roles: [developer, reviewer]
  #   command: ["claude"]
  #   preset: claude
  #   model: claude-sonnet
  #   budget: {usd: 5.0}

  # OpenAI Codex CLI.
  # - name: codex
  #   roles: [developer]
  #   command: ["codex"]
  #   preset: codex

  # aider, two copies named aider-1 and aider-2.
  # - name: aider
  #   roles: [developer]
  #   command: ["aider", "--no-auto-commits"]
  #   preset: aider
  #   replicas: 2

  # Any program: a script that runs your tests when prompted.
  # - name: tester
  #   roles: [tester]
  #   command: ["./scripts/run-tests.sh"]
  #   preset: shell
  #   env: {CI: "1"}

tasks:
  - id: T1
    title: Try the fleet
    description: Send the demo agent a prompt with `s`, watch it work.
    role: developer
    column: ready

routing:
  auto_route: true
  stages:
    - {name: backlog}
    - {name: ready}
    - {name: in_progress, roles: [developer]}
    - {name: review}
    - {name: done}

approvals:
  - {from: review, to: done}   # a person approves every task before it is done

theme: fleet-dark              # fleet-dark | fleet-light | fleet-contrast | any Textual theme
"""
