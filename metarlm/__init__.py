"""metarlm: one-shot synthesis of recursive rewrite-rule programs.

The parse/interpret path imports nothing heavy; ``synthesize`` pulls in the model lazily.
"""

from __future__ import annotations

from typing import Any

from metarlm.lang.demo import Demo, load_demo
from metarlm.lang.domain import Domain, load_domain, parse_program
from metarlm.lang.dsl import Program, print_program
from metarlm.lang.interp import Fail, Ok, evaluate

__version__ = "0.1.0"
__all__ = ["Demo", "Domain", "Fail", "Ok", "Program", "evaluate", "load_demo", "load_domain",
           "parse_program", "print_program", "synthesize"]


def synthesize(demo: Demo, **options: Any) -> Any:
    """Find a program that reproduces the demonstration (see ``metarlm.synth.search``)."""
    from metarlm.synth.search import synthesize as _synthesize

    return _synthesize(demo, **options)
