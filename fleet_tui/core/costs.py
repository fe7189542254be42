"""What tokens cost: the price table and usage -> ``cost.reported``.

A ``Usage`` is one model call's tokens as the agent CLIs record them, split the way providers
bill them: fresh input, output, input written to the prompt cache, input read from it. Prices
are US dollars per million tokens. ``price_for`` picks a model's price by the longest known
prefix of its id (``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``), the fleet's
``prices:`` before the defaults; an unknown model costs nothing (its tokens still count).
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from fleet_tui.core import events as ev


class Price(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """US dollars per million tokens. ``cache_write`` defaults to ``input``; ``cache_read``
    to a tenth of it."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None


class Usage(msgspec.Struct, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def __bool__(self) -> bool:
        return any((self.input_tokens, self.output_tokens, self.cache_creation_tokens,
                    self.cache_read_tokens))

    def grown_from(self, old: Usage) -> Usage:
        """What this usage adds to ``old``, field by field (never below zero)."""
        return Usage(input_tokens=max(0, self.input_tokens - old.input_tokens),
                     output_tokens=max(0, self.output_tokens - old.output_tokens),
                     cache_creation_tokens=max(0, self.cache_creation_tokens - old.cache_creation_tokens),
                     cache_read_tokens=max(0, self.cache_read_tokens - old.cache_read_tokens))

    def most(self, other: Usage) -> Usage:
        """The larger of each field."""
        return Usage(input_tokens=max(self.input_tokens, other.input_tokens),
                     output_tokens=max(self.output_tokens, other.output_tokens),
                     cache_creation_tokens=max(self.cache_creation_tokens, other.cache_creation_tokens),
                     cache_read_tokens=max(self.cache_read_tokens, other.cache_read_tokens))


def _p(inp: float, out: float, write: float | None = None, read: float | None = None) -> Price:
    return Price(input=inp, output=out, cache_write=write, cache_read=read)


#: List prices of well-known models (USD per million tokens), by model id prefix.
DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-4-5": _p(5, 25, 6.25, 0.5),
    "claude-opus-4-6": _p(5, 25, 6.25, 0.5),
    "claude-opus-4": _p(15, 75, 18.75, 1.5),
    "claude-3-opus": _p(15, 75, 18.75, 1.5),
    "claude-sonnet-4": _p(3, 15, 3.75, 0.3),
    "claude-3-7-sonnet": _p(3, 15, 3.75, 0.3),
    "claude-3-5-sonnet": _p(3, 15, 3.75, 0.3),
    "claude-haiku-4": _p(1, 5, 1.25, 0.1),
    "claude-3-5-haiku": _p(0.8, 4, 1, 0.08),
    "gpt-5": _p(1.25, 10, read=0.125),
    "gpt-5-mini": _p(0.25, 2, read=0.025),
    "gpt-5-nano": _p(0.05, 0.4, read=0.005),
    "gpt-4.1": _p(2, 8, read=0.5),
    "gpt-4.1-mini": _p(0.4, 1.6, read=0.1),
    "gpt-4o": _p(2.5, 10, read=1.25),
    "o3": _p(2, 8, read=0.5),
    "o3-mini": _p(1.1, 4.4, read=0.55),
    "o4-mini": _p(1.1, 4.4, read=0.275),
    "codex-mini": _p(1.5, 6, read=0.375),
    "gemini-2.5-pro": _p(1.25, 10, read=0.31),
    "gemini-2.5-flash": _p(0.3, 2.5, read=0.075),
}


def price_for(model: str, prices: dict[str, Price] | None = None) -> Price | None:
    """The price of ``model``: the longest matching prefix in ``prices``, else in the defaults.
    A provider prefix (``anthropic/``, ``openai/``) is ignored."""
    name = model.rsplit("/", 1)[-1].lower()
    for table in (prices or {}, DEFAULT_PRICES):
        keys = [k for k in table if name.startswith(k.lower())]
        if keys:
            return table[max(keys, key=len)]
    return None


def usd_for(usage: Usage, price: Price | None) -> float:
    if price is None:
        return 0.0
    write = price.input if price.cache_write is None else price.cache_write
    read = price.input / 10 if price.cache_read is None else price.cache_read
    return (usage.input_tokens * price.input + usage.output_tokens * price.output
            + usage.cache_creation_tokens * write + usage.cache_read_tokens * read) / 1_000_000


def cost_event(agent: str, model: str, usage: Usage, prices: dict[str, Price] | None = None,
               message: str = "", source: str = "", sidechain: bool = False) -> ev.CostReported:
    """The ``cost.reported`` event for ``usage`` spent by ``agent`` on ``model``."""
    event = ev.CostReported(
        agent=agent, model=model, input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens, cache_creation_tokens=usage.cache_creation_tokens,
        cache_read_tokens=usage.cache_read_tokens, usd=usd_for(usage, price_for(model, prices)),
        message=message, sidechain=sidechain,
    )
    if source:
        event.source = source
    return event


def count_reported(events: Iterable[ev.Event | ev.UnknownEvent],
                   into: dict[str, dict[str, Usage]] | None = None) -> dict[str, dict[str, Usage]]:
    """What ``cost.reported`` events reported, by agent and ``message``, added to ``into``
    (so a log read block by block can be counted block by block): where transcript followers
    made again after a restart start from."""
    counted = {} if into is None else into
    for e in events:
        if isinstance(e, ev.CostReported) and e.agent and e.message:
            mine = counted.setdefault(e.agent, {})
            old = mine.get(e.message, Usage())
            mine[e.message] = Usage(
                input_tokens=old.input_tokens + e.input_tokens,
                output_tokens=old.output_tokens + e.output_tokens,
                cache_creation_tokens=old.cache_creation_tokens + e.cache_creation_tokens,
                cache_read_tokens=old.cache_read_tokens + e.cache_read_tokens)
    return counted
