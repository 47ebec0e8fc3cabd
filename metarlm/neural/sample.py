"""Random programs from a domain's grammar under a documented prior, and training episodes.

A ``Prior`` is a distribution over programs of one *family*: ``rules`` (primitive rules ``word
-> tokens`` and higher-order rules with function words and variables, as in the meta-grammars of
Nye et al. 2020), ``numbers`` (number-word languages, ``metarlm.neural.numbers_lang``) or
``code`` (infix expressions translated to prefix, postfix or s-expressions, operator precedence
by rule order, identifiers copied). Words and tokens come from the domain when it lists them,
else they are fresh pseudo-words ("dax", "lug") and colour names.

An ``Episode`` pairs a program with support and query examples whose outputs the program
computes (``metarlm.exec.check.run_many``). Inputs are made by expanding the program top-down (a
rule, its variables filled with derivable sub-inputs, depth-limited) plus random word strings. A
one-shot episode gives some rules as background and one or a few demonstrations of the rest (the
target); the full program is then background + target, the order in which the checker composes
them. Every draw comes from the ``random.Random`` passed in: a seed fixes the stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

from metarlm.exec.check import run_many
from metarlm.lang.demo import Example
from metarlm.lang.domain import GRAMMAR_DIR, Domain, load_domain
from metarlm.lang.dsl import (
    Algebra,
    Call,
    Const,
    Copy,
    LhsItem,
    Program,
    RhsItem,
    Rule,
    Token,
    Var,
    Word,
)
from metarlm.lang.interp import Ok, derive
from metarlm.neural import numbers_lang as nl
from metarlm.neural.inputs import InputExpander, Reject

Range = tuple[int, int]  # inclusive (low, high), drawn uniformly
Family = Literal["rules", "numbers", "code"]
Inputs = Callable[[random.Random, int], list[tuple[str, ...]]]  # (rng, n) -> candidate inputs
Task = tuple[Program, Inputs]  # a sampled program and its generator of candidate inputs

CONSONANTS = "bdfgklmnprstvwz"
VOWELS = "aeiou"
COLOURS = ("RED", "BLUE", "GREEN", "YELLOW", "PURPLE", "PINK", "BLACK", "WHITE", "ORANGE",
           "GREY", "BROWN", "CYAN", "GOLD", "SILVER", "TEAL", "NAVY")
OPERATORS = (("+", "add"), ("-", "sub"), ("*", "mul"), ("/", "div"), ("%", "mod"),
             ("^", "pow"), ("&", "and"), ("|", "or"), ("<", "lt"), ("=", "eq"))
UNARY = (("!", "not"), ("~", "inv"), ("neg", "neg"))
KEYWORDS = (("true", "TRUE"), ("false", "FALSE"), ("nil", "NIL"), ("pi", "PI"))
MAX_TRIES = 500
LPAR, RPAR = Token("("), Token(")")
Made = TypeVar("Made")


@dataclass(frozen=True)
class Prior:
    """A distribution over programs and episodes (every range is inclusive and uniform)."""

    name: str
    family: Family = "rules"  # rules: primitives + higher-order; numbers: languages; code
    primitives: Range = (3, 4)  # primitive rules `word -> tokens` (code: keyword constants)
    empty_primitives: Range = (0, 0)  # how many primitives have an empty right side (`turn ->`)
    primitive_tokens: Range = (1, 1)  # tokens on a non-empty primitive right-hand side
    higher: Range = (2, 4)  # higher-order rules with a function word (code: binary operators)
    compositions: Range = (0, 0)  # rules of variables only, tried last (`u1 u2 -> [u2] [u1]`)
    arity: Range = (1, 2)  # variables on a higher-order left-hand side
    rhs_vars: Range = (1, 4)  # [v] or bare v items on a higher-order right side (sequences)
    var_weights: tuple[float, float, float] = (1.0, 1.0, 0.0)  # odds of u, x, y variables
    p_shared_word: float = 0.0  # a higher-order rule reuses a function word (`u1 fep`, `x1 fep`)
    p_token: float = 0.0  # a constant token (integer algebra: a constant) after each right item
    p_copy: float = 0.0  # a variable occurrence is a bare copy, not a call (sequence algebra)
    scales: tuple[int, ...] = (1,)  # integer algebra: factors k of calls `[v] * k`
    constants: Range = (0, 20)  # integer algebra: values of primitives and constant terms
    depth: int = 3  # nesting of higher-order rules in generated inputs (derivation recursion)
    p_random_input: float = 0.1  # share of candidate inputs that are random word strings
    free_words: int = 4  # words outside the program that copies may carry (open vocabularies)
    max_input_words: int = 10  # longest input kept
    max_output: int = 30  # longest output kept (tokens; integer algebra: unused)
    support: Range = (10, 20)  # support examples of a whole-program episode
    query: Range = (10, 10)  # query examples of every episode
    oneshot_support: Range = (1, 2)  # support examples of a one-shot episode
    p_oneshot: float = 0.5  # share of one-shot episodes in `episodes`
    language: nl.LanguagePrior = field(default_factory=nl.LanguagePrior)  # numbers: the language
    code_styles: tuple[str, ...] = ("prefix", "postfix", "sexpr", "infix")  # code: notations
    p_parens: float = 0.5  # code: a `( x1 ) -> [x1]` rule
    p_unary: float = 0.3  # code: a prefix unary operator


PRIORS: dict[str, Prior] = {
    "miniscan": Prior("miniscan", primitives=(3, 4), higher=(2, 4), arity=(1, 2),
                      rhs_vars=(1, 4), p_shared_word=0.25, depth=2, support=(10, 20),
                      query=(10, 10), max_output=30),
    "scan": Prior("scan", primitives=(4, 8), empty_primitives=(0, 2), higher=(3, 7),
                  compositions=(0, 1), arity=(1, 2), rhs_vars=(1, 8), p_shared_word=0.15,
                  depth=2, support=(10, 20), query=(10, 10), max_input_words=9, max_output=24),
    "numbers": Prior("numbers", family="numbers", support=(12, 30), query=(10, 10),
                     oneshot_support=(1, 3), max_input_words=16),
    "code": Prior("code", family="code", primitives=(0, 2), higher=(2, 4), depth=3,
                  support=(8, 16), query=(10, 10), max_input_words=13, max_output=24),
    "rules": Prior("rules", primitives=(2, 6), empty_primitives=(0, 1), primitive_tokens=(1, 2),
                   higher=(1, 5), compositions=(0, 1), arity=(1, 3), rhs_vars=(1, 5),
                   var_weights=(1.0, 1.0, 0.3), p_shared_word=0.15, p_token=0.15, p_copy=0.15,
                   scales=(1, 1, 2, 3, 10, 100), support=(8, 20), query=(10, 10)),
}


@dataclass(frozen=True)
class Episode:
    """A meta-training task: the program, the rules to write (target) and the examples."""

    domain: str  # what ``load_domain`` takes: a built-in's name, else the grammar file's path
    algebra: Algebra
    program: Program  # background + target: the program whose outputs the examples show
    target: Program  # what the model should write
    background: Program | None  # rules given, or None
    support: tuple[Example, ...]
    query: tuple[Example, ...]
    kind: Literal["full", "oneshot"] = "full"


def _between(rng: random.Random, span: Range) -> int:
    """A uniform draw from an inclusive range."""
    return rng.randint(span[0], max(span))


class _Names:
    """Fresh words and tokens for one program: the domain's lists, else made-up ones."""

    def __init__(self, domain: Domain, rng: random.Random) -> None:
        self.rng, self.used = rng, set[str]()
        self.words = None if domain.words is None else rng.sample(sorted(domain.words),
                                                                   len(domain.words))
        self.tokens = None if domain.tokens is None else sorted(domain.tokens)
        self.fresh_tokens = rng.sample(self.tokens or COLOURS, len(self.tokens or COLOURS))

    def left(self) -> int:
        """How many words are still unused (a large number for open vocabularies)."""
        return 10**6 if self.words is None else len(self.words)

    def word(self) -> str:
        """A word not handed out before (Reject when a closed vocabulary runs out)."""
        if self.words is not None:
            if not self.words:
                raise Reject("out of words")
            return self.words.pop()
        rng, text = self.rng, ""
        while not text or text in self.used:  # one or two syllables: "dax", "kiki", "blicket"
            text = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS)
                           + rng.choice(("",) + tuple(CONSONANTS) * 2)
                           for _ in range(1 + (rng.random() < 0.3)))
        self.used.add(text)
        return text

    def token(self) -> str:
        """An output token, unused ones first, then repeats (closed) or made-up ones (open)."""
        if self.fresh_tokens:
            return self.fresh_tokens.pop()
        return self.rng.choice(self.tokens) if self.tokens else self.word().upper()


def _kinds(domain: Domain, prior: Prior) -> tuple[list[str], list[float]]:
    """Variable kinds the domain allows, with the prior's weights."""
    pairs = [(k, w) for k, w in zip("uxy", prior.var_weights) if k in domain.var_kinds and w > 0]
    return [k for k, _ in pairs], [w for _, w in pairs]


def _number_vars(kinds: Sequence[str]) -> list[Var]:
    """Variables of the given kinds, numbered per kind in order of appearance."""
    count = {"u": 0, "x": 0, "y": 0}
    out = []
    for k in kinds:
        count[k] += 1
        out.append(Var(k, count[k]))  # type: ignore[arg-type]
    return out


def _rhs(variables: Sequence[Var], prior: Prior, algebra: Algebra, names: _Names,
         copies: bool, rng: random.Random) -> tuple[RhsItem, ...]:
    """A right-hand side naming every variable at least once."""
    if algebra == "int":
        terms: list[RhsItem] = [Call(v, rng.choice(prior.scales)) for v in variables]
        if rng.random() < prior.p_token:
            terms.append(Const(_between(rng, prior.constants)))
        rng.shuffle(terms)
        return tuple(terms)
    occurrences = list(variables)
    occurrences += [rng.choice(variables) for _ in range(_between(rng, prior.rhs_vars)
                                                         - len(variables))]
    rng.shuffle(occurrences)
    items: list[RhsItem] = []
    for var in occurrences:
        items.append(Copy(var) if copies and rng.random() < prior.p_copy else Call(var))
        if rng.random() < prior.p_token:
            items.append(Token(names.token()))
    return tuple(items)


def _higher_lhs(word: str, arity: int, kinds: list[str], weights: list[float],
                rng: random.Random) -> tuple[LhsItem, ...]:
    """A left-hand side with one function word among ``arity`` variables."""
    variables = _number_vars(rng.choices(kinds, weights, k=arity))
    at = 1 if arity == 2 and rng.random() < 0.7 else rng.randint(0, arity)
    return (*variables[:at], Word(word), *variables[at:])


def _rules_program(domain: Domain, prior: Prior, rng: random.Random) -> Program:
    """Primitives, then higher-order rules grouped by function word, then compositions."""
    names, algebra = _Names(domain, rng), domain.algebra
    kinds, weights = _kinds(domain, prior)
    copies = algebra == "seq" and (domain.tokens is None or (
        domain.words is not None and domain.words <= domain.tokens))
    n_prim = min(_between(rng, prior.primitives), names.left() - bool(kinds))  # leave a word
    n_empty = min(_between(rng, prior.empty_primitives), n_prim)
    prims = []
    for k in range(n_prim):
        if algebra == "int":
            rhs: tuple[RhsItem, ...] = (Const(_between(rng, prior.constants)),)
        else:
            size = 0 if k < n_empty else _between(rng, prior.primitive_tokens)
            rhs = tuple(Token(names.token()) for _ in range(size))
        prims.append(Rule((Word(names.word()),), rhs))
    groups: dict[str, list[Rule]] = {}
    for _ in range(_between(rng, prior.higher) if kinds else 0):
        shared = groups and (rng.random() < prior.p_shared_word or not names.left())
        word = rng.choice(sorted(groups)) if shared else names.word()
        lhs = _higher_lhs(word, _between(rng, prior.arity), kinds, weights, rng)
        if any(rule.lhs == lhs for rule in groups.get(word, ())):  # a shared word met itself
            if not names.left():
                continue
            word = names.word()
            lhs = _higher_lhs(word, len(_vars(lhs)), kinds, weights, rng)
        rule = Rule(lhs, _rhs(_vars(lhs), prior, algebra, names, copies, rng))
        groups.setdefault(word, []).append(rule)
    higher = [r for w in rng.sample(sorted(groups), len(groups))
              for r in sorted(groups[w], key=_spans)]
    comps = [Rule(lhs, _rhs(_vars(lhs), prior, algebra, names, copies, rng))
             for lhs in _compositions(kinds, _between(rng, prior.compositions), rng)]
    rules = prims + higher + comps
    return Program(tuple(rules[: domain.settings["max_rules"]]), algebra)


def _vars(lhs: Sequence[LhsItem]) -> list[Var]:
    """The variables of a left-hand side in order."""
    return [it for it in lhs if isinstance(it, Var)]


def _spans(rule: Rule) -> int:
    """Rules on single words sort before rules on spans, so that neither shadows the other."""
    return sum(v.kind != "u" for v in rule.variables())


def _compositions(kinds: list[str], n: int, rng: random.Random) -> list[tuple[LhsItem, ...]]:
    """Left-hand sides of variables only: two words, or a word and the rest (recursive lists)."""
    shapes = [s for s in (("u", "u"), ("u", "x"), ("x", "u")) if set(s) <= set(kinds)]
    return [tuple(_number_vars(s)) for s in rng.sample(shapes, min(n, len(shapes)))]


def _code_program(domain: Domain, prior: Prior, rng: random.Random) -> Program:
    """Binary operators by increasing precedence, unary, parentheses, keywords, identifiers."""
    x1, x2, u1 = Var("x", 1), Var("x", 2), Var("u", 1)
    layout = {"prefix": lambda op, args: (op, *args), "postfix": lambda op, args: (*args, op),
              "sexpr": lambda op, args: (LPAR, op, *args, RPAR),
              "infix": lambda op, args: (LPAR, *args[:-1], op, args[-1], RPAR)}  # bracketed
    style = layout[rng.choice(prior.code_styles)]
    named = rng.random() < 0.5  # output operators as names ("add") or as their symbols

    def rule(sym: str, name: str, args: list[Var]) -> Rule:
        lhs = (args[0], Word(sym), *args[1:]) if len(args) == 2 else (Word(sym), *args)
        return Rule(lhs, style(Token(name if named else sym), [Call(v) for v in args]))

    rules = [rule(sym, name, [x1, x2])
             for sym, name in rng.sample(OPERATORS, _between(rng, prior.higher))]
    if rng.random() < prior.p_unary:
        rules.append(rule(*rng.choice(UNARY), [x1]))
    if rng.random() < prior.p_parens:
        rules.append(Rule((Word("("), x1, Word(")")), (Call(x1),)))
    for word, tok in rng.sample(KEYWORDS, _between(rng, prior.primitives)):
        rules.append(Rule((Word(word),), (Token(tok),)))
    rules.append(Rule((u1,), (Copy(u1),)))
    return Program(tuple(rules), "seq")


def check_fits(domain: Domain, prior: Prior) -> None:
    """Raise ValueError when the prior's family cannot write programs in the domain."""
    needs = {"numbers": ("int", {"u", "x", "y"}), "code": ("seq", {"u", "x"})}
    if prior.family in needs:
        algebra, kinds = needs[prior.family]
        if (domain.algebra != algebra or domain.words is not None or not kinds <= domain.var_kinds
                or (algebra == "seq" and domain.tokens is not None)):
            raise ValueError(f"the {prior.name} prior ({prior.family}) needs the {algebra} "
                             f"algebra, open words and tokens and variables "
                             f"{', '.join(sorted(kinds))}: the {domain.name} domain lacks some")


def _task(domain: Domain, prior: Prior, rng: random.Random) -> Task:
    """A program of the prior's family and its input generator."""
    if prior.family == "numbers":
        names = _Names(domain, rng)
        lang = nl.sample_language(rng, names.word, prior.language)
        return nl.language_program(lang), lambda r, n: [
            nl.render(lang, k) for k in nl.lexicon_numbers(lang, r)
            + [nl.sample_number(lang, r) for _ in range(n)]]
    program = (_code_program if prior.family == "code" else _rules_program)(domain, prior, rng)
    if not program.rules:
        raise Reject("empty program")
    mentioned = {it.text for rule in program.rules for it in rule.lhs if isinstance(it, Word)}
    if domain.words is None:
        names = _Names(domain, rng)
        free = [w for w in (names.word() for _ in range(prior.free_words)) if w not in mentioned]
    else:
        free = sorted(domain.words - mentioned)
    return program, InputExpander(program, free, prior.depth, prior.p_random_input)


def sample_program(domain: str | Path | Domain, prior: Prior | None = None,
                   rng: random.Random | None = None) -> Program:
    """A random program of the domain under the prior (default ``prior_for(domain)``)."""
    return _retry(lambda dom, pri, r: _task(dom, pri, r)[0], domain, prior, rng)


def _examples(program: Program, inputs: list[tuple[str, ...]], prior: Prior,
              original: Program | None = None) -> list[Example]:
    """Distinct inputs with successful, short outputs (equal under ``original`` if given)."""
    inputs = [w for w in dict.fromkeys(inputs) if 0 < len(w) <= prior.max_input_words]
    results = run_many(program, inputs)
    if original is not None and original != program:
        # keep what the rules mean in their own order: moving the target last may change it
        agree = [r == o for r, o in zip(results, run_many(original, inputs))]
        inputs = [w for w, a in zip(inputs, agree) if a]
        results = [r for r, a in zip(results, agree) if a]
    out = []
    for words, res in zip(inputs, results):
        if isinstance(res, Ok):
            value = res.value
            if isinstance(value, int) or len(value) <= prior.max_output:  # type: ignore[arg-type]
                out.append(Example(words, value))  # type: ignore[arg-type]
    return out


def _cover(program: Program, pool: list[Example], target: frozenset[int], most: int,
           rng: random.Random, longest_first: bool) -> tuple[list[Example], list[Example]]:
    """Examples whose derivations use every target rule (greedy, at most ``most``), the rest."""
    order = list(pool)
    rng.shuffle(order)
    if longest_first:  # long inputs use many rules: a cheap stand-in for the greediest choice
        order.sort(key=lambda ex: -len(set(ex.input)))
    chosen: list[Example] = []
    rest: list[Example] = []
    missing = set(target)
    for k, ex in enumerate(order):
        if not missing:
            return chosen, rest + order[k:]
        uses = _uses(program, ex) & missing
        if uses:
            chosen.append(ex)
            missing -= uses
            if len(chosen) > most:
                break
        else:
            rest.append(ex)
    if missing or len(chosen) > most:
        raise Reject("the examples do not use every target rule")
    return chosen, rest


def _uses(program: Program, example: Example) -> frozenset[int]:
    """The rules the derivation of an example applies."""
    step = derive(program, example.input)[1]
    out, stack = set(), [step] if step is not None else []
    while stack:
        node = stack.pop()
        out.add(node.rule)
        stack.extend(node.children)
    return frozenset(out)


def _finish(domain: Domain, program: Program, n_background: int, support: list[Example],
            query: list[Example], rng: random.Random) -> Episode:
    """Check the examples for degeneracy and assemble the episode."""
    if not query or not support:
        raise Reject("too few examples")
    if len({ex.output for ex in support + query}) < 2:
        raise Reject("every output is the same")
    rng.shuffle(support)
    background = Program(program.rules[:n_background], program.algebra) if n_background else None
    target = Program(program.rules[n_background:], program.algebra)
    return Episode(domain_ref(domain), program.algebra, program, target, background,
                   tuple(support), tuple(query), "oneshot" if n_background else "full")


def domain_ref(domain: Domain) -> str:
    """What ``load_domain`` loads the domain from: a built-in's name, else its file's path."""
    builtin = domain.path == GRAMMAR_DIR / f"{domain.name}.lark"
    return domain.name if builtin else str(domain.path)


def _full(domain: Domain, prior: Prior, rng: random.Random) -> Episode:
    """A whole-program episode or Reject."""
    program, inputs = _task(domain, prior, rng)
    n_support, n_query = _between(rng, prior.support), _between(rng, prior.query)
    pool = _examples(program, inputs(rng, 3 * (n_support + n_query)), prior)
    everything = frozenset(range(len(program)))
    chosen, rest = _cover(program, pool, everything, prior.support[1], rng, True)
    rng.shuffle(rest)
    # a small input space (u variables only) shrinks the support to leave examples to query
    size = max(prior.support[0], min(n_support, len(pool) - n_query))
    if len(chosen) + len(rest) < size:
        raise Reject("too few examples")
    fill = max(0, size - len(chosen))
    return _finish(domain, program, 0, chosen + rest[:fill], rest[fill:fill + n_query], rng)


def _split(program: Program, rng: random.Random) -> tuple[Program, Program]:
    """Background and target: all rules but those naming one word, or all but one rule."""
    rules = program.rules
    words = sorted({it.text for rule in rules for it in rule.lhs if isinstance(it, Word)})
    higher = [r for r in rules if r.variables()]
    if words and (rng.random() < 0.5 or not higher):
        word = rng.choice(words)
        target = [r for r in rules if Word(word) in r.lhs]
    elif higher:
        target = [rng.choice(higher)]
    else:
        raise Reject("nothing to leave out")
    background = [r for r in rules if r not in target]
    if not background:
        raise Reject("no background")
    return Program(tuple(background), program.algebra), Program(tuple(target), program.algebra)


def _oneshot(domain: Domain, prior: Prior, rng: random.Random) -> Episode:
    """A one-shot episode or Reject."""
    original, make_inputs = _task(domain, prior, rng)
    background, target = _split(original, rng)
    program = background + target
    named = {it.text for rule in target.rules for it in rule.lhs if isinstance(it, Word)}
    n_support, n_query = _between(rng, prior.oneshot_support), _between(rng, prior.query)
    inputs = make_inputs(rng, 6 * (n_support + n_query))
    if all(any(isinstance(it, Word) for it in rule.lhs) for rule in target.rules):
        inputs = [w for w in inputs if named.intersection(w)]  # only these can use the target
    pool = _examples(program, inputs[: 3 * (n_support + n_query)], prior, original)
    goal = frozenset(range(len(background), len(program)))
    support, rest = _cover(program, pool, goal, prior.oneshot_support[1], rng, False)
    query = []
    for ex in rest:  # more demonstrations up to the drawn size, each using a target rule
        if len(support) < n_support and _uses(program, ex) & goal:
            support.append(ex)
        else:
            query.append(ex)
    return _finish(domain, program, len(background), support, query[:n_query], rng)


def _retry(make: Callable[[Domain, Prior, random.Random], Made], domain: str | Path | Domain,
           prior: Prior | None, rng: random.Random | None) -> Made:
    """Draw until ``make`` does not reject; RuntimeError after MAX_TRIES draws."""
    dom = load_domain(domain)
    prior, rng = prior or prior_for(dom), rng or random.Random()
    check_fits(dom, prior)
    for _ in range(MAX_TRIES):
        try:
            return make(dom, prior, rng)
        except Reject:
            continue
    raise RuntimeError(f"the {prior.name} prior yields nothing usable in the {dom.name} "
                       f"domain after {MAX_TRIES} draws")


def sample_episode(domain: str | Path | Domain, prior: Prior | None = None,
                   rng: random.Random | None = None) -> Episode:
    """A whole-program episode: the target is the full program, every rule used by the support."""
    return _retry(_full, domain, prior, rng)


def oneshot_episode(domain: str | Path | Domain, prior: Prior | None = None,
                    rng: random.Random | None = None) -> Episode:
    """A one-shot episode: background rules given, a few demonstrations of the target rules."""
    return _retry(_oneshot, domain, prior, rng)


def episodes(domain: str | Path | Domain, prior: Prior | None = None,
             seed: int = 0) -> Iterator[Episode]:
    """An endless, seeded stream of episodes, one-shot with the prior's ``p_oneshot``."""
    dom = load_domain(domain)
    prior, rng = prior or prior_for(dom), random.Random(seed)
    while True:
        oneshot = rng.random() < prior.p_oneshot
        yield (oneshot_episode if oneshot else sample_episode)(dom, prior, rng)


def prior_for(domain: str | Path | Domain) -> Prior:
    """The named prior of a built-in domain, or the generic prior fitted to a user grammar."""
    dom = load_domain(domain)
    if dom.path.parent == GRAMMAR_DIR and dom.name in PRIORS:
        return PRIORS[dom.name]
    if dom.algebra == "int" and dom.words is None and {"u", "x", "y"} <= dom.var_kinds:
        return replace(PRIORS["numbers"], name=dom.name,
                       max_input_words=min(16, dom.settings["max_words"]))
    base = PRIORS["rules"]
    weights = tuple(w if k in dom.var_kinds else 0.0 for k, w in zip("uxy", base.var_weights))
    n_words = len(dom.words) if dom.words is not None else 10**6
    n_prim = (min(base.primitives[0], max(1, n_words // 2)), min(base.primitives[1], n_words))
    return replace(base, name=dom.name, var_weights=weights,  # type: ignore[arg-type]
                   primitives=n_prim, higher=(min(base.higher[0], n_words - n_prim[0]),
                                              base.higher[1]),
                   max_input_words=min(base.max_input_words, dom.settings["max_words"]))
