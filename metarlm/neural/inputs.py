"""Inputs for a program: expanded top-down from its rules, or random strings of its words."""

from __future__ import annotations

import random

from metarlm.exec.check import run_many
from metarlm.lang.dsl import Call, Program, Word


class Reject(Exception):
    """A degenerate draw (no derivable input, words ran out...); the caller draws again."""


class InputExpander:
    """Top-down inputs: a rule's words, its variables filled with derivable sub-inputs."""

    def __init__(self, program: Program, free: list[str], depth: int,
                 p_random: float) -> None:
        self.program, self.free, self.depth, self.p_random = program, free, depth, p_random
        self.higher = [r for r, rule in enumerate(program.rules) if rule.variables()]
        self.words = sorted({it.text for rule in program.rules for it in rule.lhs
                             if isinstance(it, Word)})
        primitive = [w for w in self.words if any(r.lhs == (Word(w),) for r in program.rules)]
        self.units: list[str] = []
        for singles in (primitive + free, self.words):  # words of primitives first, else any
            results = run_many(program, [(w,) for w in singles])
            self.units = [w for w, res in zip(singles, results) if res.ok]
            if self.units:
                return
        raise Reject("no single word is derivable")

    def __call__(self, rng: random.Random, n: int) -> list[tuple[str, ...]]:
        """``n`` candidate inputs, the top rules cycling through every higher-order rule."""
        out: list[tuple[str, ...]] = [(w,) for w in self.units]
        roots = self.higher or [-1]
        for k in range(n):
            if rng.random() < self.p_random:
                pool = self.words + self.units
                out.append(tuple(rng.choice(pool) for _ in range(rng.randint(1, 4))))
            else:
                out.append(tuple(self.expand(roots[k % len(roots)], self.depth, rng)))
        return out

    def expand(self, r: int, depth: int, rng: random.Random) -> list[str]:
        """An input rooted at rule ``r`` (a unit word when ``r`` is -1 or depth runs out)."""
        if r < 0 or depth < 0:
            return [rng.choice(self.units)]
        rule = self.program.rules[r]
        called = {it.var for it in rule.rhs if isinstance(it, Call)}
        out: list[str] = []
        for item in rule.lhs:
            if isinstance(item, Word):
                out.append(item.text)
            elif item.kind == "y" and rng.random() < 0.3:
                continue
            elif item not in called:  # copied only: any words will do
                size = 1 if item.kind == "u" else rng.randint(1, 2)
                out += [rng.choice(self.free or self.units) for _ in range(size)]
            elif item.kind == "u" or depth == 0 or rng.random() < 0.4:
                out.append(rng.choice(self.units))
            else:
                out += self.expand(rng.choice(self.higher), depth - 1, rng)
        return out
