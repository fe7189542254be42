#!/bin/sh
# Runs the real agent CLIs (claude, codex, aider, gemini) next to a shell under fleet-tui and
# prints what each card shows. They are installed from the registries into a cache folder
# ($REAL_AGENTS_CACHE, default ~/.cache/fleet-tui/real-agents) and run never logged in, with a
# scratch HOME: what a new user sees (sign-in and trust menus, fatal errors, aider's questions).
# No registry: says so and exits 0. Nothing here is a test; tests use tests/data/screens/.
#
#   sh bench/real_agents.sh [SECONDS]      (how long to let the fleet run first; default 25)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
py="$repo/.venv/bin/python"
[ -x "$py" ] || py=python3
wait_s=${1:-25}
cache=${REAL_AGENTS_CACHE:-$HOME/.cache/fleet-tui/real-agents}
mkdir -p "$cache"

# --- install (once) ------------------------------------------------------------------------
if [ ! -x "$cache/npm/node_modules/.bin/codex" ] || [ ! -x "$cache/aider/bin/aider" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "real_agents: skipped: npm is not installed"; exit 0
    fi
    if ! timeout 30 npm view @openai/codex version >/dev/null 2>&1; then
        echo "real_agents: skipped: the npm registry cannot be reached"; exit 0
    fi
    echo "real_agents: installing the CLIs into $cache (once)" >&2
    npm install --silent --prefix "$cache/npm" @anthropic-ai/claude-code @openai/codex \
        @google/gemini-cli >&2
    python3 -m venv "$cache/aider"
    if ! "$cache/aider/bin/pip" install -q aider-chat >&2; then
        echo "real_agents: skipped: aider-chat could not be installed from PyPI"; exit 0
    fi
fi

# --- run the fleet ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/fleet-real-agents.XXXXXX")
ui_socket="fleet-real-agents-ui-$$"
fleet_socket=""
end_server() {  # tmux 3.3a leaves the socket file of a killed server behind
    tmux -L "$1" kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$1"
}
cleanup() {
    [ -n "$fleet_socket" ] && end_server "$fleet_socket"
    end_server "$ui_socket"
    # codex leaves a background app-server (run from the scratch HOME) behind its TUI: end
    # those, by pid, and only those.
    for pid in $(ps -eo pid=,args= | W="$work/" awk 'index($0, ENVIRON["W"]) { print $1 }'); do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
cp "$here/real_agents.fleet.yaml" "$work/fleet.yaml"
git -C "$work" init -q
mkdir -p "$work/home"
fleet_socket=$("$py" -c 'import sys; sys.path.insert(0, sys.argv[1])
from fleet_tui.adapters.tmux import socket_name_for
print(socket_name_for("real-agents", sys.argv[2]))' "$repo" "$work/fleet.yaml")

# A scratch HOME (no logins, no settings of yours) and fleet-tui's state under it.
home="$work/home"
state="$work/state"
path="$cache/npm/node_modules/.bin:$cache/aider/bin:$(dirname "$py"):$PATH"
fleet() {
    env HOME="$home" FLEET_HOME="$state" PATH="$path" \
        "$py" -m fleet_tui.cli --config "$work/fleet.yaml" "$@"
}
tmux -L "$ui_socket" new-session -d -x 200 -y 60 -c "$work" -- env HOME="$home" \
    FLEET_HOME="$state" PATH="$path" TERM=xterm-256color \
    "$py" -m fleet_tui.cli --config "$work/fleet.yaml" run
sleep "$wait_s"

echo "=== the fleet-tui screen (200x60) after ${wait_s}s"
tmux -L "$ui_socket" capture-pane -p -t 0 | sed -e 's/[[:space:]]*$//' | grep -v '^$' || true
echo "=== fleet-tui ls / tasks"
fleet ls || true
fleet tasks || true
echo "=== each card (bench/cards.py)"
events=$(ls "$state"/sessions/*/events.jsonl 2>/dev/null | head -1)
if [ -n "$events" ]; then
    "$py" "$here/cards.py" "$events"
else
    echo "real_agents: no session log was written (did fleet-tui start?)"
fi
fleet stop >/dev/null 2>&1 || true
