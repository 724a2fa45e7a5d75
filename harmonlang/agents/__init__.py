"""The agents that compose what the writer left open (stage 5, fill).

`fill(ir)` is the public entry point; `messages` holds the typed messages the
act agents, role agents and critic exchange.
"""

from harmonlang.agents.fill import DEFAULT_CANDIDATES, FillCache, fill

__all__ = ["DEFAULT_CANDIDATES", "FillCache", "fill"]
