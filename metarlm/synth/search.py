"""Search: propose → check → rank, with recursive decomposition; ``synthesize`` is the API.

1. Whole-program proposals. The meta-trained model (``metarlm.neural.propose``) samples programs for
   the rules the demonstration needs beyond its background, in batches; duplicates are dropped,
   each batch is checked in the kernels, sketches have their holes filled with Z3, and every
   consistent program is kept with its model log-probability.
2. Recursive decomposition. When whole programs fail within their share of the budget, the
   search core (``metarlm.synth.core``) takes over: rules already accepted and the background
   cut the demonstration into sub-demonstrations, solved one rule at a time by the generators
   (read-off, abduction with Z3, revisions, systematic) and the domain's plugins. Each rule
   found this way is marked with where it came from and at which level: level 1 read off an
   example, level 2 off a span one cut deep, and so on. With the policy, the guided search and
   the unguided one take turns over the budget (``metarlm.synth.lanes``; a long search goes
   on in two processes with the same turns, ``metarlm.synth.parallel``) and their consistent
   programs are pooled.
3. Ranking. Consistent programs are ordered by model log-probability (when a model is loaded)
   minus a description-length prior; the best is chosen, and up to three runners-up that
   behave differently are reported with an input on which they differ.

One budget covers the run (``metarlm.types.Budget``): candidates checked, Z3 and model calls
counted apart, wall-clock seconds the hard limit; the result says why the search ended. The
same seed gives the same result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from metarlm.exec.check import CheckReport, check_demo, run_many
from metarlm.lang.demo import Demo, Output, format_output
from metarlm.lang.dsl import Program, print_rule
from metarlm.lang.interp import Fail, Ok, Result, Step, derive, render
from metarlm.synth import parallel
from metarlm.synth.base import Plugin
from metarlm.synth.core import Search
from metarlm.synth.lanes import Lane, in_turns
from metarlm.synth.plugins import load_plugins
from metarlm.synth.ranking import general_variants_first, generality, variant_key
from metarlm.types import Budget, Candidate, SearchConfig, SearchSettings

ENOUGH = "enough consistent programs to rank"
WARM_UP_CANDIDATES = 200  # a first run's untimed search, which compiles the kernels it calls


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
    origin: tuple[tuple[str, str], ...] = ()  # (rule text, where it came from), program order
    tried: tuple[str, ...] = ()
    seed: int = 0
    first_candidates: int | None = None  # candidates checked up to the first consistent one
    first_seconds: float | None = None  # seconds to the first consistent program
    stopped: str | None = None  # why the search ended (time limit, candidate budget, ...)
    costs: dict[str, Any] = field(default_factory=dict)  # candidates, z3_calls, model_calls
    considered: tuple[Program, ...] = ()  # the distinct consistent programs ranked, as found

    @property
    def z3_calls(self) -> int:
        """Hole-filling solver calls the run made."""
        return int(self.costs.get("z3_calls", 0))

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
        """The same facts as the pretty report, for machines: an output is an integer or its
        tokens joined by spaces, or null with the reason in ``failure``."""
        return {
            "program": None if self.program is None else str(self.program),
            "learned": None if self.learned is None else str(self.learned),
            "consistent": self.consistent,
            "examples": [] if self.report is None else [
                {"input": " ".join(c.example.input), "expected": _output_json(c.example.output),
                 **_result_json(c.result), "ok": c.ok} for c in self.report.examples],
            "queries": [_query_json(q) for q in self.queries],
            "accuracy": self.accuracy,
            "candidates": self.candidates,
            "seconds": round(self.seconds, 4),
            "alternatives": [_alternative_json(a) for a in self.alternatives],
            "origin": [{"rule": rule, "origin": where} for rule, where in self.origin],
            "tried": list(self.tried),
            "seed": self.seed,
            "first_candidates": self.first_candidates,
            "first_seconds": None if self.first_seconds is None else round(self.first_seconds, 4),
            "stopped": self.stopped,
            "costs": self.costs,
        }


def _query_json(q: QueryAnswer) -> dict[str, Any]:
    """A query's JSON record: ``output`` (null with ``failure`` when the run failed), and
    ``expected`` and ``correct`` when the demo gives the output."""
    out: dict[str, Any] = {"input": " ".join(q.input), "output": _output_json(q.output)}
    if q.failure:
        out["failure"] = q.failure
    if q.expected is not None:
        out["expected"] = _output_json(q.expected)
        out["correct"] = q.correct
    return out


def _output_json(output: Output | None) -> int | str | None:
    """An output for JSON: the integer itself, the tokens joined by spaces, or null."""
    return output if output is None or isinstance(output, int) else format_output(output)


def _result_json(result: Result, key: str = "output", why: str = "failure") -> dict[str, Any]:
    """A run's result as ``{key: output}``, or ``{key: null, why: reason}`` when it failed."""
    if isinstance(result, Fail):
        return {key: None, why: result.reason}
    value = result.value
    return {key: value if isinstance(value, int) else render(result)}


def _alternative_json(alt: Alternative) -> dict[str, Any]:
    """A runner-up's JSON record; its outputs are read back from their rendered text."""
    def parsed(text: str) -> Result:
        if text.startswith("!FAIL "):
            return Fail(text[len("!FAIL "):])
        words = tuple(text.split())
        number = alt.program.algebra == "int" and len(words) == 1
        return Ok(int(words[0]) if number else words)

    return {"program": str(alt.program),
            "input": None if alt.input is None else " ".join(alt.input),
            **_result_json(parsed(alt.output)),
            **_result_json(parsed(alt.chosen_output), "chosen_output", "chosen_failure")}


def synthesize(demo: Demo, config: SearchConfig | None = None, *,
               progress: Callable[[Budget, int], None] | None = None,
               **overrides: Any) -> SynthesisResult:
    """Find a program consistent with the demonstration within budget (see module docs).

    One budget covers the whole run: ``timeout`` seconds from the call, model included.
    ``progress``, if given, is told the budget and the consistent programs found so far at
    every state the search grows (a live status; it must be quick).
    """
    cfg = config or SearchConfig()
    if overrides:
        cfg = SearchConfig(**{**cfg.__dict__, **overrides})
    if cfg.search_settings:
        demo = with_settings(demo, cfg.search_settings)
    warm_kernels(demo)
    budget = Budget(max_candidates=cfg.budget, seconds=cfg.timeout)
    found: list[Candidate] = []
    tried: list[str] = []
    stopped: str | None = None
    guide = _guide(demo, cfg) if cfg.use_model else None
    sampler = _sampled(demo, cfg, budget, found, tried) if cfg.sampler else None
    searched: int | None = None  # candidates the search checked, if it ran
    if not found and cfg.use_enumeration and not budget.exhausted():
        before = budget.candidates
        # each lane remembers its own hole fillings (metarlm.synth.lanes)
        more, stopped = _search(demo, budget, cfg, guide, progress)
        found += more
        searched = budget.candidates - before
    # Ranking waits for the load too, so that what is chosen (and what the report says of
    # the policy) never depends on load speed; a checkpoint that cannot load is an error.
    if guide is not None:
        guide.wait(budget.remaining())
    if searched is not None:
        tried.append(f"search ({_how(guide, cfg)}): {searched} candidate programs checked")
    if found and guide is not None and guide.available and budget.remaining() > 0:
        tried.append(f"ranked by the policy: {len(found)} consistent programs")
        policy, memo = guide.policy, {}
        found = [replace(c, logprob=policy.decomposition_logprob(c.program, demo.background,
                                                                 demo.examples, memo))
                 for c in found]
        budget.model_calls += len(found)
    elif found and sampler is not None:
        found = [replace(c, logprob=sampler.logprob(demo, c.program)) if c.logprob is None
                 else c for c in found]
    return _result(demo, cfg, found, budget, tried, stopped or budget.reason())


def with_settings(demo: Demo, values: dict[str, int]) -> Demo:
    """The demonstration with these search settings over its domain's own (ValueError
    for a name that is no setting or a value that is no non-negative integer)."""
    search = {**demo.domain.search, **SearchSettings.checked(values)}
    return replace(demo, domain=replace(demo.domain, search=search))


def _how(guide: Any, cfg: SearchConfig) -> str:
    """How the search was run, for the report's list of what was tried."""
    if guide is None:
        return "unguided"
    if not guide.available:
        return "unguided: the policy did not load within the time limit"
    if guide.greedy or not cfg.unguided_lane:
        return "guided by the policy"
    return "guided by the policy, in turns with the unguided search"


def warm_kernels(demo: Demo) -> None:
    """Load (the first time after an install: compile) the kernels the search calls first,
    before the time limit starts: a one-time start-up, not part of any search."""
    from metarlm.exec.compile import cold_cache, kernels
    from metarlm.exec.incremental import DemoChecker

    cold = cold_cache(kernels()[1])
    background = demo.background or Program((), demo.domain.algebra)
    DemoChecker(demo.examples[:1], background).check([()])
    if cold:  # compiled code is made as it is first called: call what a search calls
        for _ in searcher(demo, Budget(max_candidates=WARM_UP_CANDIDATES, seconds=3600)).run():
            break


def _guide(demo: Demo, cfg: SearchConfig) -> Any:
    """The policy guide for the search, loading in the background from the call on."""
    from metarlm.synth.generators.policy import PolicyGuide

    return PolicyGuide.loading(cfg.checkpoint, demo.domain, cfg.policy_samples, seed=cfg.seed,
                               greedy=cfg.greedy, decoding=cfg.policy_decoding)


def _sampled(demo: Demo, cfg: SearchConfig, budget: Budget, found: list[Candidate],
             tried: list[str]) -> Any:
    """Nye et al.'s method: whole programs sampled from a model and checked, within a share
    of the budget; the consistent ones join ``found``. Returns the sampler (None if it
    cannot read the demonstration)."""
    from metarlm.neural.propose import ModelProposer

    proposer = ModelProposer.load(cfg.sampler_checkpoint)
    why = proposer.unreadable(demo)
    if why is not None:  # e.g. 49 distinct words for 48 slots
        tried.append(f"whole-program sampler: skipped ({why})")
        return None  # nor can it score the search's programs
    share = Budget(max_candidates=int(cfg.budget * cfg.model_share),
                   seconds=min(cfg.timeout * cfg.model_share, budget.remaining()))
    found += proposer.propose(demo, cfg, share)
    budget.candidates += share.candidates
    budget.model_calls += share.model_calls
    budget.z3_calls += share.z3_calls
    tried.append(f"whole-program sampler: {share.candidates} sampled programs checked")
    return proposer


def searcher_settings(demo: Demo, plugins: Sequence[Plugin] | None = None) -> SearchSettings:
    """The search settings of a demonstration: defaults, its plugins' (``plugins``: those
    already loaded) and its domain's own."""
    base = SearchSettings()
    for plugin in load_plugins(demo.domain.biases) if plugins is None else plugins:
        base = replace(base, **plugin.settings)
    return replace(base, **demo.domain.search)


def searcher(demo: Demo, budget: Budget, settings: SearchSettings | None = None,
             guide: Any = None) -> Search:
    """The search core set up for a demonstration: its domain's plugins, settings and caps."""
    plugins = load_plugins(demo.domain.biases)
    base = settings or searcher_settings(demo, plugins)
    if guide is not None and guide.greedy:  # one rule a step, the policy's first: no search
        base = replace(base, beam=1, guided_keep=1)
    greedy = guide is not None and guide.greedy
    search = Search(demo.examples, demo.background, demo.domain.algebra, budget, base,
                    demo.domain.var_kinds, plugins, max_rules=demo.domain.settings["max_rules"],
                    guide=guide, generators=[] if greedy else None)
    search.beams_only = greedy
    return search


def _search(demo: Demo, budget: Budget, cfg: SearchConfig, guide: Any = None,
            progress: Callable[[Budget, int], None] | None = None
            ) -> tuple[list[Candidate], str]:
    """Consistent programs from the search core, and why it ended."""
    # The guided lane waits for the policy at its first turn (the kernels were loaded before
    # the time limit started), so that what it does never depends on how fast a machine loads
    # the policy (same seed, same result); the unguided lane runs meanwhile.
    out: list[Candidate] = []

    def observed(search: Search | None) -> Search | None:
        if search is not None and progress is not None:
            search.observer = lambda _learned: progress(budget, len(out))
        return search

    settings = searcher_settings(demo)
    lanes = [Lane("guided" if guide is not None else "unguided",
                  lambda own: observed(_lane_search(demo, own, guide)))]
    split = None
    if guide is not None and not guide.greedy and cfg.unguided_lane:
        lanes[0].head_start = settings.guided_delay
        lanes.insert(0, Lane("unguided", lambda own: observed(searcher(demo, own))))
        # a long search goes on in two processes, with the same turns (metarlm.synth.parallel)
        split = parallel.Split() if cfg.parallel_lanes and parallel.available() else None
    stopped = None
    try:
        for lane, program in in_turns(lanes, budget, settings.model_call_cost, split):
            learned = program.rules[len(demo.background or ()):]
            where = "decomposition" if len(lanes) == 1 else f"decomposition ({lane.name} lane)"
            out.append(Candidate(program, None, where, budget.candidates, time.monotonic(),
                                 tuple(lane.origins(learned).items())))
            if len({c.program for c in out}) > cfg.alternatives + 3:
                stopped = ENOUGH
                break
    finally:
        if split is not None:
            split.close()
    if len(lanes) > 1:
        budget.lanes = {lane.name: lane.report() for lane in lanes}
    return out, stopped or budget.reason() or _why_ended(lanes) or ENOUGH


def _lane_search(demo: Demo, own: Budget, guide: Any) -> Search | None:
    """A lane's search on its own budget account (None: the policy did not load in time)."""
    if guide is not None and not guide.wait(own.remaining()):
        return None
    return searcher(demo, own, guide=guide)


def _why_ended(lanes: list[Lane]) -> str | None:
    """Why the turns ended: the reason of the search that ended them."""
    return next((la.stopped for la in lanes if la.ended and la.started and la.stopped), None)


def _result(demo: Demo, cfg: SearchConfig, found: list[Candidate], budget: Budget,
            tried: list[str], stopped: str | None) -> SynthesisResult:
    unique: dict[Program, Candidate] = {}
    for cand in sorted(found, key=lambda c: -c.score):
        unique.setdefault(cand.program, cand)
    ranked = general_variants_first(list(unique.values()), lambda c: variant_key(c.program),
                                    lambda c: generality(c.program))
    considered = tuple(dict.fromkeys(c.program for c in sorted(found, key=lambda c: c.found_at)))
    if not ranked:
        return SynthesisResult(None, demo.background, None, _answers(None, demo),
                               budget.candidates, budget.elapsed(), tried=tuple(tried),
                               seed=cfg.seed, stopped=stopped, costs=budget.costs())
    best = ranked[0]
    first = min(ranked, key=lambda c: c.found_at)
    report = check_demo(_learned(best.program, demo.background), demo)
    n_bg = len(demo.background) if demo.background is not None else 0
    finer = dict(best.rule_origins)
    origin = tuple((print_rule(shown, best.program.algebra),
                    "background" if i < n_bg else finer.get(r, best.origin))
                   for i, (shown, r) in enumerate(zip(report.program.rules, best.program.rules)))
    return SynthesisResult(
        program=report.program, background=demo.background, report=report,
        queries=_answers(report.program, demo), candidates=budget.candidates,
        seconds=budget.elapsed(), alternatives=_alternatives(best, ranked[1:], demo, cfg),
        origin=origin, tried=tuple(tried), seed=cfg.seed, first_candidates=first.found_after,
        first_seconds=first.found_at - budget.started, stopped=stopped, costs=budget.costs(),
        considered=considered)


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


