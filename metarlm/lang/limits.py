"""The documented limits on what users give metarlm (README, "Limits").

Each one keeps hostile input from turning into a Python exception, a hang or an unbounded
allocation; going past one is a one-line ``MetarlmError`` (or, while evaluating, a failure
with a reason). Evaluation's own limits (fuel, ``max_output``, 2^62) live in
``metarlm.lang.interp``.
"""

from __future__ import annotations

MAX_DIGITS = 100  # an integer literal, a variable index, a demo's integer output, a setting
MAX_PROGRAM_CHARS = 1_000_000  # program text (a rules file, a demo's background)
MAX_GRAMMAR_BYTES = 1_000_000  # a .lark grammar file
MAX_JSON_DEPTH = 64  # nesting of arrays and objects in a demo file (a demo needs 3)
MAX_RULES_SETTING = 1_000  # the largest `// @max_rules:` a grammar may set
MAX_WORDS_SETTING = 10_000  # the largest `// @max_words:` (so the longest input, and derive's)
MAX_OUTPUT_LIMIT = 10_000_000  # the largest --max-output: tokens of one output
MAX_FILE_BYTES = 50_000_000  # a demo file, an inputs file
