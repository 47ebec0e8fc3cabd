"""Fuzzing every entry point a user reaches: no exception but MetarlmError, no call over its
time bound, error messages on one line.

Two profiles. ``fast`` (the default, in CI: a few seconds, derandomized) and ``long``, run by
hand for minutes::

    METARLM_FUZZ=long METARLM_FUZZ_SCALE=1 METARLM_FUZZ_STATS=fuzz.json pytest tests/test_fuzz.py

``METARLM_FUZZ_SCALE`` multiplies the long profile's example counts and
``METARLM_FUZZ_STATS`` names a JSON file that receives the number of calls per entry point.
Inputs are drawn from ``metarlm.testing`` and bent by ``fuzz_inputs``.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import fuzz_inputs as fz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from metarlm import cli
from metarlm.errors import MetarlmError
from metarlm.exec.check import check_demo, run_many
from metarlm.lang.demo import load_demo, parse_demo
from metarlm.lang.domain import BUILTIN, Domain, load_domain, parse_program
from metarlm.lang.dsl import Program, print_program
from metarlm.lang.interp import evaluate
from metarlm.synth.search import explain_lines, synthesize
from metarlm.testing import demo_cases, inputs, programs, vocabulary

LONG = os.environ.get("METARLM_FUZZ", "fast") == "long"
SCALE = float(os.environ.get("METARLM_FUZZ_SCALE", "1"))
COUNTS: Counter[str] = Counter()
DOMAINS = [*BUILTIN, *(str(p) for p in fz.USER_GRAMMARS)]
# seconds a single call may take on a loaded two-core machine (time limits included)
BOUNDS = {"parse_program": 3, "load_domain": 5, "parse_demo": 5, "load_demo": 5, "run": 10,
          "check": 15, "synth": 25, "--explain": 5, "train": 240, "eval": 240,
          "info": 10}
runner = CliRunner()
_names = itertools.count()


def profile(fast: int, long: int) -> settings:
    """Hypothesis settings of the selected profile: ``fast`` or ``long`` examples."""
    return settings(max_examples=max(1, int(long * SCALE)) if LONG else fast, deadline=None,
                    derandomize=not LONG, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


class Overtime(BaseException):
    """A call ran far past its bound (a BaseException: no ``except Exception`` swallows it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise Overtime("far past the time bound")


def guarded(entry: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call and count one entry point: its value, or the MetarlmError it raised (checked to
    be one line); any other exception, or a call over its bound, fails the test."""
    COUNTS[entry] += 1
    bound = BOUNDS[entry.split()[-1] if entry.startswith("cli") else entry]
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 3 * bound + 10)
    start = time.monotonic()
    try:
        value = call(*args, **kwargs)
    except MetarlmError as err:
        assert "\n" not in str(err) and str(err), repr(str(err))
        COUNTS[f"{entry}: MetarlmError"] += 1
        value = err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.monotonic() - start
    assert elapsed < bound, f"{entry} took {elapsed:.1f} s (bound {bound} s)"
    return value


def invoke(entry: str, app: Any, args: Sequence[str | Path]) -> Any:
    """A command run in-process: exit 0, 1 or 2, no traceback, errors as one line."""
    result = guarded(entry, runner.invoke, app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    err = result.stderr.rstrip("\n").splitlines()
    if result.exit_code == 2 and err and "Usage:" not in result.stderr:
        assert err[0].startswith("error: ") and (len(err) == 1 or err[-1].strip() == "^"), err
    return result


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    """Write the calls per entry point where METARLM_FUZZ_STATS says, once the module ends."""
    yield
    target = os.environ.get("METARLM_FUZZ_STATS")
    if target:
        old = json.loads(Path(target).read_text()) if Path(target).is_file() else {}
        merged = Counter(old) + COUNTS
        Path(target).write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder with the shipped demos' grammars and rules beside them."""
    work = tmp_path_factory.mktemp("fuzz")
    for demo in fz.DEMOS:
        for sibling in demo.parent.glob("*"):
            if sibling.suffix in (".lark", ".rules") and not (work / sibling.name).exists():
                shutil.copy(sibling, work / sibling.name)
    (work / "dir.lark").mkdir()
    return work


def fresh(workdir: Path, suffix: str) -> Path:
    """A new file name in the scratch folder (caches key on paths, so never reuse one)."""
    return workdir / f"f{next(_names)}{suffix}"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    path.write_bytes(content)
    return path


domains = st.sampled_from(DOMAINS)


@st.composite
def program_texts(draw: st.DrawFn) -> tuple[str, str]:
    """(domain, text): a printed program of the domain, mutated or not, or random text."""
    domain = draw(domains)
    source = draw(st.sampled_from(("program", "mutated", "random")))
    if source == "random":
        return domain, draw(fz.text_of(max_size=80))
    text = print_program(draw(programs(domain, holes=True)))
    return domain, draw(fz.mutated(text)) if source == "mutated" else text


@profile(fast=30, long=40_000)
@given(program_texts())
def test_parse_program(case: tuple[str, str]) -> None:
    domain, text = case
    program = guarded("parse_program", parse_program, text, domain)
    if isinstance(program, Program):  # whatever parses prints as text that parses back
        assert parse_program(print_program(program), domain) == program


def _exercise(domain: Domain, data: st.DataObject) -> None:
    """Use a loaded (perhaps strange) domain: parse, split and run what it accepts."""
    vocab = vocabulary(domain)
    if not (vocab.words or vocab.variables) or domain.words == frozenset():
        return  # a domain that lexes no word takes no program or no input
    program = data.draw(programs(domain, holes=True))
    text = print_program(program)
    assert guarded("parse_program", domain.parse, text) == program
    for words in data.draw(st.lists(inputs(domain, program), max_size=2)):
        guarded("run", run_many, program, [words])
    guarded("parse_program", domain.parse, data.draw(fz.mutated(text)))
    if data.draw(st.integers(0, 3)) == 0:  # and search in it
        case = data.draw(demo_cases(domain, max_examples=3))
        demo = guarded("parse_demo", parse_demo, case.data)
        if not isinstance(demo, MetarlmError):
            guarded("synth", synthesize, demo, use_model=LONG and data.draw(st.booleans()),
                    timeout=0.3, budget=2_000)


@profile(fast=12, long=4_000)
@given(fz.grammar_texts(), st.data())
def test_load_domain(workdir: Path, case: tuple[str, str | None], data: st.DataObject) -> None:
    text, core = case
    folder = fresh(workdir, "")
    folder.mkdir()
    if core is not None:
        write(folder / "core.lark", core)
    path = write(folder / "g.lark", text)
    domain = guarded("load_domain", load_domain, str(path))
    if isinstance(domain, Domain):
        _exercise(domain, data)


@st.composite
def demo_objects(draw: st.DrawFn) -> tuple[dict[str, Any], Path | None]:
    """(demo object, the folder its relative paths are in): shipped or drawn, then bent."""
    if draw(st.booleans()):
        path = draw(st.sampled_from(fz.DEMOS))
        data, base = fz.shipped_demo(path), path.parent
    else:
        data, base = draw(demo_cases(draw(domains))).data, None
    return (draw(fz.mutated_demo(data)) if draw(st.integers(0, 4)) else data), base


@profile(fast=30, long=20_000)
@given(demo_objects())
def test_parse_demo(case: tuple[dict[str, Any], Path | None]) -> None:
    data, base = case
    guarded("parse_demo", parse_demo, data, base)


@st.composite
def demo_files(draw: st.DrawFn) -> bytes:
    """The bytes of a demo file: a shipped or drawn demo, bent as text, or something else."""
    kind = draw(st.sampled_from(("json", "text", "deep", "binary")))
    data, _ = draw(demo_objects())
    if kind == "deep":
        return fz.deep(draw(st.sampled_from((63, 64, 65, 999, 1001, 100_000)))).encode()
    if kind == "binary":
        return draw(st.binary(max_size=64))
    try:
        text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    except ValueError:  # an integer past Python's 4,300 digits: write its digits by hand
        text = '{"domain": "numbers", "examples": [{"input": "a", "output": 1%s}]}' % ("0" * 4400)
    return (draw(fz.mutated(text)) if kind == "text" else text).encode("utf-8", "surrogatepass")


@profile(fast=20, long=10_000)
@given(demo_files())
def test_load_demo(workdir: Path, content: bytes) -> None:
    guarded("load_demo", load_demo, write(fresh(workdir, ".json"), content))


# fuel past 10^6 only on short inputs: fuel is what bounds evaluation's time (README, Limits)
limits = st.one_of(st.integers(-3, 60), st.just(200_000), st.integers(10**6, 10**13))


@profile(fast=25, long=20_000)
@given(domains, st.data(), limits, limits)
def test_run(domain: str, data: st.DataObject, fuel: int, max_output: int) -> None:
    program = data.draw(programs(domain, holes=True))
    long_input = st.integers(1, 300 if fuel <= 10**6 else 12).map(lambda n: ("a",) * n)
    words = data.draw(st.lists(st.one_of(inputs(domain, program), long_input), max_size=3))
    got = guarded("run", run_many, program, words, fuel, max_output)
    assert got == [guarded("run", evaluate, program, w, fuel, max_output) for w in words]


@profile(fast=12, long=5_000)
@given(st.data())
def test_check(data: st.DataObject) -> None:
    case = data.draw(demo_cases(data.draw(domains)))
    demo = parse_demo(case.data)
    sketch = data.draw(st.one_of(programs(demo.domain, holes=True), st.just(case.program)))
    guarded("check", check_demo, sketch, demo, data.draw(limits), data.draw(limits))


@profile(fast=5, long=800)
@given(demo_objects(), st.booleans(), st.floats(0.2, 1.5))
def test_synth(case: tuple[dict[str, Any], Path | None], model: bool, timeout: float) -> None:
    data, base = case
    demo = guarded("parse_demo", parse_demo, data, base)
    if isinstance(demo, MetarlmError):
        return
    use_model = model and LONG  # the model costs seconds to load: long profile only
    guarded("synth", synthesize, demo, use_model=use_model, timeout=timeout, budget=5_000)


@profile(fast=15, long=5_000)
@given(domains, st.data())
def test_explain(domain: str, data: st.DataObject) -> None:
    program = data.draw(programs(domain))
    words = data.draw(st.one_of(inputs(domain, program, max_words=40),
                                st.integers(1, 256).map(lambda n: ("a",) * n)))
    guarded("--explain", explain_lines, program, words)


@st.composite
def command_lines(draw: st.DrawFn, workdir: Path) -> tuple[Any, list[str | Path]]:
    """A run, check, synth or info command line with hostile files and option values."""
    domain = draw(st.one_of(domains, st.sampled_from(fz.PATHS)))
    text = draw(program_texts())[1]
    program = write(fresh(workdir, ".rules"), text)
    program = draw(st.sampled_from((program, program, workdir / "missing.rules",
                                    workdir / "dir.lark")))
    demo = write(fresh(workdir, ".json"), draw(demo_files()))
    number = st.one_of(st.integers(-2, 5), st.sampled_from(("10000000", "10000001", "9" * 30,
                                                            "x", "")))
    kind = draw(st.sampled_from(("run", "check", "synth", "info")))
    options = ["--json"] if draw(st.booleans()) else []
    if kind == "info":
        return cli.app, ["info", draw(st.sampled_from((*fz.PATHS, str(workdir)))), *options]
    if kind == "run":
        words = draw(st.lists(st.one_of(fz.text_of(max_size=30), st.just("a " * 300)),
                              min_size=1, max_size=2))
        options += [a for w in words for a in ("-i", w)] + ["--domain", domain]
        options += ["--fuel", str(draw(number))] if draw(st.booleans()) else []
        options += ["--max-output", str(draw(number))] if draw(st.booleans()) else []
        return cli.app, ["run", program, *options]
    if kind == "check":
        options += ["--domain", domain] if draw(st.booleans()) else []
        return cli.app, ["check", program, "--demo", demo, *options]
    options += ["--explain"] if draw(st.booleans()) else []
    if LONG and draw(st.booleans()):  # a checkpoint that cannot load fails before searching
        options += ["--checkpoint", draw(st.sampled_from((*fz.PATHS, str(workdir))))]
    else:
        options += ["--no-model"]
    return cli.synth_app, ["--demo", demo, "--timeout", "0.5", *options]


@profile(fast=10, long=2_000)
@given(st.data())
def test_command_line(workdir: Path, data: st.DataObject) -> None:
    app, args = data.draw(command_lines(workdir))
    invoke(f"cli {args[0] if app is cli.app else 'synth'}", app, args)


@st.composite
def train_lines(draw: st.DrawFn, workdir: Path) -> list[str]:
    """``metarlm train`` with hostile grammars and option values (one step at most)."""
    text, _ = draw(fz.grammar_texts())
    broken = [*fz.PATHS[:3], "klingon"]
    grammar_choices = [str(write(fresh(workdir, ".lark"), text)), "rules",
                       str(fz.USER_GRAMMARS[0]), *broken]
    # only the long profile trains (each run costs seconds)
    grammar = draw(st.sampled_from(grammar_choices if LONG else broken))
    out = draw(st.sampled_from([str(fresh(workdir, "")), "/dev/null/x", str(workdir / "f0.json"),
                                "x" * 300]))
    values = {"--batch-size": ("1", "2", "300"), "--d-model": ("8", "7", "16"),
              "--layers": ("1", "0"), "--lr": ("0.001", "-1", "nan", "0"),
              "--warmup": ("0", "-1"), "--threads": ("1", "-1"),
              "--checkpoint-every": ("1", "0"), "--symbols": ("episode", "fixed", "bogus")}
    args = ["train", "--grammar", grammar, "--out", out, "--steps", "1", "--valid-every", "0"]
    if LONG and draw(st.booleans()):  # half the long profile's lines train for real
        args[2:5] = [draw(st.sampled_from(grammar_choices[:3])), "--out", str(fresh(workdir, ""))]
        return [*args, "--batch-size", "2"]
    for flag, choices in values.items():
        if draw(st.booleans()):
            args += [flag, draw(st.sampled_from(choices))]
    return args


@profile(fast=2, long=40)
@given(st.data())
def test_train(workdir: Path, data: st.DataObject) -> None:
    invoke("cli train", cli.app, data.draw(train_lines(workdir)))


@st.composite
def eval_lines(draw: st.DrawFn, workdir: Path) -> list[str]:
    """``metarlm eval`` with hostile suites, systems and option values, on tiny budgets."""
    suites = ["miniscan", "code", "nope", "", "new-domain"] if LONG else ["nope", "", "x" * 300]
    systems = ["enum", "greedy", "nope", ""] if LONG else ["nope", ""]
    args = ["eval", "--out", draw(st.sampled_from([str(fresh(workdir, "")), "/dev/null/x"])),
            "--timeout", "0.2", "--budget", "50", "--episodes", "1", "--quick", "--shots",
            draw(st.sampled_from(("", "1", "0,-1", "x", "99999999999999999999")))]
    if LONG and draw(st.booleans()):  # half the long profile's lines evaluate for real
        args[2] = str(fresh(workdir, ""))
        return [*args[:-1], "", "--suite", draw(st.sampled_from(suites[:2] + suites[-1:])),
                "--system", draw(st.sampled_from(systems[:2]))]
    for _ in range(draw(st.integers(1, 2))):
        args += ["--suite", draw(st.sampled_from(suites))]
    args += ["--system", draw(st.sampled_from(systems))]
    if draw(st.booleans()):
        args += ["--checkpoint", draw(st.sampled_from(fz.PATHS))]
    return args


@profile(fast=3, long=40)
@given(st.data())
def test_eval(workdir: Path, data: st.DataObject) -> None:
    invoke("cli eval", cli.app, data.draw(eval_lines(workdir)))
