"""The rule generators, each behind ``metarlm.synth.base.Generator``.

``primitives`` (the starts: one-word examples, cross-situational pairs), ``revisions``
(learned rules dropped, moved or widened), ``abduction`` (unknown words filled by Z3, alone
or jointly with a rule of calls), ``readoff`` (left sides read off inputs, right sides off
outputs; ``sums`` for integers), ``cuts`` (sub-demonstrations) and ``systematic`` (every rule
by size, once the beams are spent). Their order is the order the search tries their moves in.
"""

from __future__ import annotations

from metarlm.synth.base import Context, Generator
from metarlm.synth.generators.abduction import Abduction, JointAbduction
from metarlm.synth.generators.cuts import Cuts
from metarlm.synth.generators.primitives import Primitives
from metarlm.synth.generators.readoff import ReadOff
from metarlm.synth.generators.revisions import Revisions
from metarlm.synth.generators.systematic import Systematic


def default_generators(ctx: Context) -> list[Generator]:
    """The general generators, in the order their moves are tried."""
    del ctx  # every general generator suits every domain
    return [Primitives(), Revisions(), Abduction(), ReadOff(), JointAbduction(), Cuts(),
            Systematic()]
