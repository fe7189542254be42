"""The key table: one binding per known action id, none on keys that tmux over SSH eats."""

from __future__ import annotations

from fleet_tui.config.actions import KNOWN_ACTIONS
from fleet_tui.ui.keys import BINDINGS, UNSAFE_KEYS, key_display, keys_for


def test_every_known_action_has_exactly_one_binding() -> None:
    ids = [b.id for b in BINDINGS]
    assert sorted(ids) == sorted(KNOWN_ACTIONS)
    assert all(b.description for b in BINDINGS)


def test_no_binding_uses_an_unsafe_key() -> None:
    used = {key.strip() for b in BINDINGS for key in b.key.split(",")}
    assert not used & UNSAFE_KEYS


def test_keymap_overrides_the_default_keys() -> None:
    pause = next(b for b in BINDINGS if b.id == "pause")
    assert keys_for(pause, {}) == "p"
    assert keys_for(pause, {"pause": "P"}) == "P"
    assert key_display("left,h") == "left / h"
    assert key_display("question_mark") == "?"
