"""Domain plugins: biases that help one family of domains, which a domain file opts into.

A grammar declares them in a comment line, ``// @bias: numerals``; a domain that declares
none gets none, so the search core stays general. A plugin is a set of hooks, each a no-op
by default:

- ``settings``: its defaults for search settings (``numerals`` reads six failing examples);
- ``generators``: extra generators (none of the shipped plugins needs one);
- ``sum_rules`` and ``bundles``: integer right-hand sides it can name without a solver, and
  rules that must come with a proposed rule;
- ``admits``: whether a word's abduced meaning is believable;
- ``positions`` and ``rank_terms``: placement preferences and ranking tie-breaks;
- ``finish``: the order a complete program's rules are put in where the examples allow it.

``numerals`` (number words) and ``precedence`` (connectives before modifiers) ship.
"""

from __future__ import annotations

from collections.abc import Sequence

from metarlm.errors import DomainError
from metarlm.synth.base import Plugin


def plugin_names() -> tuple[str, ...]:
    """The plugins that ship."""
    return ("numerals", "precedence")


def load_plugins(names: Sequence[str] | frozenset[str]) -> tuple[Plugin, ...]:
    """The plugins a domain declares, in a fixed order; DomainError for an unknown name."""
    from metarlm.synth.plugins.numerals import Numerals
    from metarlm.synth.plugins.precedence import Precedence

    known: dict[str, type[Plugin]] = {"numerals": Numerals, "precedence": Precedence}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise DomainError(f"unknown bias {unknown[0]!r}: the plugins are "
                          f"{', '.join(plugin_names())}")
    return tuple(known[name]() for name in plugin_names() if name in names)
