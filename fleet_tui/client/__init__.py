"""Clients of the fleet daemon: find or start it, follow its event log into a state, send it
commands over the control socket. The UI, the command line and the browser view build on these."""
