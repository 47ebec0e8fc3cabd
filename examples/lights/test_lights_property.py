"""Property tests for a user grammar, with metarlm.testing (pip install 'metarlm[testing]').

Copy this file next to your own grammar and rules, change the two paths, and run it with
``pytest test_lights_property.py``.
"""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm import evaluate, load_domain, parse_program, print_program
from metarlm.testing import demos, inputs, programs

HERE = Path(__file__).resolve().parent
LIGHTS = load_domain(HERE / "lights.lark")
LAMP = parse_program((HERE / "lights.rules").read_text(encoding="utf-8"), LIGHTS)


@settings(max_examples=50, deadline=None)
@given(inputs(LIGHTS, LAMP, covered=True))
def test_the_lamp_shows_only_its_colours(words: tuple[str, ...]) -> None:
    result = evaluate(LAMP, words)
    assert result.ok and set(result.value) <= LIGHTS.tokens


@settings(max_examples=50, deadline=None)
@given(programs(LIGHTS), st.data())
def test_any_program_prints_parses_and_never_raises(program, data) -> None:
    assert LIGHTS.parse(print_program(program)) == program
    for words in data.draw(st.lists(inputs(LIGHTS, program), min_size=1, max_size=3)):
        evaluate(program, words)  # a value or a failure with a reason, never an exception


@settings(max_examples=20, deadline=None)
@given(demos(LIGHTS, background=False))
def test_demonstrations_are_consistent(demo) -> None:
    for example in demo.examples:
        assert set(example.input) <= LIGHTS.words and set(example.output) <= LIGHTS.tokens
