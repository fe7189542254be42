"""The commented starter fleet.yaml that ``fleet-tui init`` writes.

It runs as written (one offline demo agent); the real agents are there commented out, since
they need installing and logging in. ``tests/test_config.py`` checks that it loads.
"""

from __future__ import annotations

STARTER_YAML = """\
# fleet.yaml: a fleet of coding agents for fleet-tui.
# Check it with `fleet-tui validate`; `fleet-tui schema` prints its JSON Schema.
# fleet-tui looks for it at --config, $FLEET_CONFIG, ./fleet.yaml, ~/.config/fleet-tui/fleet.yaml.
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
    preset: demo         # claude | codex | aider | gemini | opencode | shell | demo | none
                         # (unset: follows from the program's name)
    model: demo

  # Claude Code (needs `claude` installed and logged in). fleet-tui passes it `--model` and
  # its own hooks (`--settings`) at spawn: no settings file to edit; costs come from its
  # transcript.
  # - name: claude
  #   roles: [developer, reviewer]
  #   command: ["claude"]
  #   model: sonnet
  #   budget: {usd: 5.0}   # pause it once it has cost this much

  # OpenAI Codex CLI (needs `codex` installed and logged in).
  # - name: codex
  #   roles: [developer]
  #   command: ["codex"]
  #   model: gpt-5-codex

  # aider (needs an API key in its environment), two copies named aider-1 and aider-2.
  # - name: aider
  #   roles: [developer]
  #   command: ["aider", "--no-auto-commits"]
  #   replicas: 2

  # Any program: a script that runs your tests when prompted. Commands are argv lists,
  # never shell strings.
  # - name: tester
  #   roles: [tester]
  #   command: ["./scripts/run-tests.sh"]
  #   preset: shell
  #   env: {CI: "1"}
  #   status_patterns:     # your own regexes replace the preset's, list by list
  #     waiting: ["Continue\\\\?"]

tasks:
  - id: T1
    title: Try the fleet
    description: Watch the demo agent pick this task up, then send it a prompt of your own.
    role: developer
    column: ready

routing:
  auto_route: true       # hand tasks to idle agents with the stage's role
  stages:
    - {name: backlog}
    - {name: ready}
    - {name: in_progress, roles: [developer]}
    - {name: review}
    - {name: done}

approvals:
  - {from: review, to: done}   # a person approves every task before it is done

theme: fleet-dark              # fleet-dark | fleet-light | fleet-contrast | any Textual theme

# keymap:                      # action: key, to change the default keys
#   spawn: n
"""
