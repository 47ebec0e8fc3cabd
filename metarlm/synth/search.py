"""Search: propose → check → rank, with recursive decomposition; ``synthesize`` is the API.

1. Whole-program proposals. The meta-trained model (``metarlm.neural.propose``) samples programs for
   the rules the demonstration needs beyond its background, in batches; duplicates are dropped,
   each batch is checked in the kernels, sketches have their holes filled with Z3, and every
   consistent program is kept with its model log-probability.
2. Recursive decomposition. When whole programs fail within their share of the budget, the
   enumerator (``metarlm.synth.enumerator``) takes over: rules already accepted and the background
   cut the demonstration into sub-demonstrations, solved one rule at a time (abduction with Z3
   for unknown words). Each rule found this way is marked with where it came from and at
   which level: level 1 read off an example, level 2 off a span one cut deep, and so on.
3. Ranking. Consistent programs are ordered by model log-probability (when a model is loaded)
   minus a description-length prior; the best is chosen, and up to three runners-up that
   behave differently are reported with an input on which they differ.

Budgets are candidates checked and wall-clock seconds; the same seed gives the same result.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from metarlm.exec.check import CheckReport, check_demo, run_many
from metarlm.lang.demo import Demo, Output, format_output
from metarlm.lang.dsl import Program, print_rule
from metarlm.lang.interp import Fail, Ok, Step, derive, render
from metarlm.synth.enumerator import EnumConfig, Enumerator
from metarlm.types import Budget, Candidate, SearchConfig


@dataclass(frozen=True)
class QueryAnswer:
    """The chosen program's answer to one query, scored when the demo gives the output."""

    input: tuple[str, ...]
    output: Output | None
    failure: str | None = None
    expected: Output | None = None

    @property
    def correct(self) -> bool | None:
        return None if self.expected is None else self.output == self.expected


@dataclass(frozen=True)
class Alternative:
    """A consistent runner-up and an input on which it differs from the chosen program."""

    program: Program
    input: tuple[str, ...] | None
    output: str
    chosen_output: str


@dataclass(frozen=True)
class SynthesisResult:
    """Everything a run found: the program, checks, answers, costs and alternatives."""

    program: Program | None
    background: Program | None
    report: CheckReport | None
    queries: tuple[QueryAnswer, ...]
    candidates: int
    seconds: float
    alternatives: tuple[Alternative, ...] = ()
    origin: dict[str, str] = field(default_factory=dict)
    tried: tuple[str, ...] = ()
    seed: int = 0
    first_candidates: int | None = None  # candidates checked up to the first consistent one
    first_seconds: float | None = None  # seconds to the first consistent program

    @property
    def consistent(self) -> bool:
        return self.report is not None and self.report.ok

    @property
    def accuracy(self) -> float | None:
        scored = [q.correct for q in self.queries if q.correct is not None]
        return sum(scored) / len(scored) if scored else None

    @property
    def learned(self) -> Program | None:
        """The rules beyond the background."""
        return None if self.program is None else _learned(self.program, self.background)

    def to_json(self) -> dict[str, Any]:
        """The same facts as the pretty report, for machines."""
        return {
            "program": None if self.program is None else str(self.program),
            "learned": None if self.learned is None else str(self.learned),
            "consistent": self.consistent,
            "examples": [] if self.report is None else [
                {"input": " ".join(c.example.input), "expected": format_output(c.example.output),
                 "output": render(c.result), "ok": c.ok} for c in self.report.examples],
            "queries": [_query_json(q) for q in self.queries],
            "accuracy": self.accuracy,
            "candidates": self.candidates,
            "seconds": round(self.seconds, 4),
            "alternatives": [
                {"program": str(a.program), "input": None if a.input is None else " ".join(a.input),
                 "output": a.output, "chosen_output": a.chosen_output}
                for a in self.alternatives],
            "origin": self.origin,
            "tried": list(self.tried),
            "seed": self.seed,
            "first_candidates": self.first_candidates,
            "first_seconds": None if self.first_seconds is None else round(self.first_seconds, 4),
        }


def _query_json(q: QueryAnswer) -> dict[str, Any]:
    out: dict[str, Any] = {"input": " ".join(q.input), "output": format_output(q.output)}
    if q.failure:
        out["failure"] = q.failure
    if q.expected is not None:
        out["expected"] = format_output(q.expected)
        out["correct"] = q.correct
    return out


def synthesize(demo: Demo, config: SearchConfig | None = None, **overrides: Any) -> SynthesisResult:
    """Find a program consistent with the demonstration within budget (see module docs)."""
    cfg = config or SearchConfig()
    if overrides:
        cfg = SearchConfig(**{**cfg.__dict__, **overrides})
    budget = Budget(max_candidates=cfg.budget, seconds=cfg.timeout)
    found: list[Candidate] = []
    tried: list[str] = []
    scorer = None
    if cfg.use_model:
        from metarlm.neural.propose import ModelProposer

        proposer = ModelProposer.load(cfg.checkpoint)
        why = proposer.unreadable(demo)
        if why is not None:  # e.g. 49 distinct words for 48 slots: search without the model
            tried.append(f"model: skipped ({why})")
        else:
            scorer = proposer
            share = Budget(max_candidates=int(cfg.budget * cfg.model_share),
                           seconds=cfg.timeout * cfg.model_share)
            offset = budget.candidates
            found += [replace(c, found_after=c.found_after + offset)
                      for c in proposer.propose(demo, cfg, share)]
            budget.candidates += share.candidates
            tried.append(f"model: {share.candidates} sampled programs checked")
    if not found and cfg.use_enumeration:
        # The enumeration keeps its own share even when sampling overran its own.
        rest = Budget(max_candidates=max(cfg.budget - budget.candidates,
                                         int(cfg.budget * (1 - cfg.model_share))),
                      seconds=max(cfg.timeout - budget.elapsed(),
                                  cfg.timeout * (1 - cfg.model_share)))
        offset = budget.candidates
        found += [replace(c, found_after=c.found_after + offset)
                  for c in _enumerate(demo, rest, cfg)]
        budget.candidates += rest.candidates
        tried.append(f"enumeration with decomposition and abduction: {rest.candidates} "
                     "candidate programs checked")
    if scorer is not None and found:
        found = [replace(c, logprob=scorer.logprob(demo, c.program)) if c.logprob is None
                 else c for c in found]
    return _result(demo, cfg, found, budget, tried)


def _enumerate(demo: Demo, budget: Budget, cfg: SearchConfig) -> list[Candidate]:
    enum = Enumerator(demo.examples, demo.background, demo.domain.algebra, budget, EnumConfig(),
                      kinds=demo.domain.var_kinds)
    out: list[Candidate] = []
    for program in enum.run():
        learned = program.rules[len(demo.background or ()):]
        out.append(Candidate(program, None, "decomposition", budget.candidates,
                             time.monotonic(), tuple(enum.origins(learned).items())))
        if len(out) > cfg.alternatives + 3 or budget.exhausted():
            break
    return out


def _result(demo: Demo, cfg: SearchConfig, found: list[Candidate], budget: Budget,
            tried: list[str]) -> SynthesisResult:
    unique: dict[Program, Candidate] = {}
    for cand in sorted(found, key=lambda c: -c.score):
        unique.setdefault(cand.program, cand)
    ranked = list(unique.values())
    if not ranked:
        return SynthesisResult(None, demo.background, None, _answers(None, demo),
                               budget.candidates, budget.elapsed(), tried=tuple(tried),
                               seed=cfg.seed)
    best = ranked[0]
    first = min(ranked, key=lambda c: c.found_at)
    report = check_demo(_learned(best.program, demo.background), demo)
    n_bg = len(demo.background) if demo.background is not None else 0
    finer = dict(best.rule_origins)
    origin = {print_rule(r, best.program.algebra):
              "background" if i < n_bg else finer.get(r, best.origin)
              for i, r in enumerate(best.program.rules)}
    return SynthesisResult(
        program=report.program, background=demo.background, report=report,
        queries=_answers(report.program, demo), candidates=budget.candidates,
        seconds=budget.elapsed(), alternatives=_alternatives(best, ranked[1:], demo, cfg),
        origin=origin, tried=tuple(tried), seed=cfg.seed, first_candidates=first.found_after,
        first_seconds=first.found_at - budget.started)


def _learned(program: Program, background: Program | None) -> Program:
    """The program's rules after the background's."""
    n = len(background) if background is not None else 0
    return Program(program.rules[n:], program.algebra)


def _answers(program: Program | None, demo: Demo) -> tuple[QueryAnswer, ...]:
    if program is None:
        return tuple(QueryAnswer(q.input, None, "no program", q.expected) for q in demo.queries)
    results = run_many(program, [q.input for q in demo.queries])
    return tuple(QueryAnswer(q.input, r.value if isinstance(r, Ok) else None,
                             r.reason if isinstance(r, Fail) else None, q.expected)
                 for q, r in zip(demo.queries, results))


def probe_inputs(demo: Demo, limit: int = 200) -> list[tuple[str, ...]]:
    """Inputs on which to compare programs: the queries, then recombined example inputs."""
    pool: dict[tuple[str, ...], None] = {}
    for q in demo.queries:
        pool.setdefault(q.input, None)
    words = sorted({w for e in demo.examples for w in e.input})
    inputs = [e.input for e in demo.examples]
    for a in inputs:
        for b in inputs:
            for w in words:
                if len(pool) >= limit:
                    return list(pool)
                pool.setdefault(a + (w,) + b, None)
                pool.setdefault((w,) + a, None)
    return list(pool)


def _alternatives(best: Candidate, others: Sequence[Candidate], demo: Demo,
                  cfg: SearchConfig) -> tuple[Alternative, ...]:
    probes = probe_inputs(demo)
    chosen = run_many(best.program, probes)
    out = []
    for cand in others:
        theirs = run_many(cand.program, probes)
        diff = next((k for k, (a, b) in enumerate(zip(chosen, theirs)) if a != b), None)
        if diff is None:
            continue
        out.append(Alternative(cand.program, probes[diff], render(theirs[diff]),
                               render(chosen[diff])))
        if len(out) >= cfg.alternatives:
            break
    return tuple(out)


def explain_lines(program: Program, words: Sequence[str]) -> list[str]:
    """The derivation of one output as indented lines: which rule produced which part."""
    result, tree = derive(program, words)
    if tree is None:
        return [f"{' '.join(words)}  =>  {render(result)}"]
    lines: list[str] = []
    stack: list[tuple[Step, int]] = [(tree, 0)]
    while stack:  # depth first, without recursion: a derivation is as deep as its input
        step, depth = stack.pop()
        span = " ".join(words[step.start:step.end])
        rule = print_rule(program.rules[step.rule], program.algebra)
        lines.append(f"{'  ' * depth}{span}  =>  {render(Ok(step.value))}    [{rule}]")
        stack.extend((child, depth + 1) for child in reversed(step.children))
    return lines


