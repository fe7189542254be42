"""The fleet daemon: the one process per fleet that owns the event log, the agents, the pane
monitor, the inbox and the rules, living in the fleet's own tmux server. Clients (the UI, the
command line, the browser) follow its log and send it commands over the control socket."""
