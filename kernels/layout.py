"""The flat program layout and the status codes shared by the kernels and the lowering.

A batch of programs is a 2-D int64 array, one program per row; only the prefix a row uses
is meaningful (rows lowered from ASTs are zero padded, rows lowered from ids are not)::

    row = [n_rules, max_lhs, n_holes, rule_0, rule_1, ...]
    rule = [n_lhs, n_rhs, n_calls, 0,
            lhs items (kind, arg, min_after) * n_lhs,
            rhs items (kind, arg, scale) * n_rhs,
            called lhs item indices * n_calls]

Words and output tokens are symbol ids (one id space, so a copied word equals the output
token of the same text); a hole ``?`` of the sequence algebra is output as the marker
``-1 - index``. A variable on a right-hand side refers to its left-hand item by index; the
call list holds each called variable once, in order of first call, as the reference does.

Numba's cache checks only the timestamp of a kernel's own file, not of the constants and
inlined functions it takes from other files. So ``STAMP`` hashes every file the kernels
depend on; each kernel file returns the stamp it was compiled under (``compiled_stamp``),
and ``metarlm.exec.compile.kernels`` drops the cached code of a file whose stamp is out of date.
"""

from __future__ import annotations

import zlib
from pathlib import Path

_KERNELS = ("layout.py", "machine.py", "lower.py", "batch.py", "rules.py", "outcomes.py")


def _sources() -> list[Path]:
    """The kernel files and the token ids they lower (``metarlm.neural.tokens``)."""
    import importlib.util

    here = Path(__file__).resolve().parent
    tokens = importlib.util.find_spec("metarlm.neural.tokens")
    origin = Path(tokens.origin) if tokens is not None and tokens.origin else here / "missing"
    return [here / name for name in _KERNELS] + [origin]


def source_stamp() -> int:
    """A checksum of the sources the compiled kernels depend on."""
    try:
        return zlib.crc32(b"".join(path.read_bytes() for path in _sources()))
    except OSError:  # sources not readable as files (e.g. a zip import): trust the cache
        return 0


STAMP = source_stamp()

# row header
ROW_RULES, ROW_MAX_LHS, ROW_HOLES, ROW_BODY = 0, 1, 2, 3
# rule header
RULE_LHS, RULE_RHS, RULE_CALLS, RULE_HEAD = 0, 1, 2, 4
ITEM = 3  # ints per left- or right-hand item

# left-hand item kinds (arg: symbol id for WORD, unused for variables)
L_WORD, L_U, L_X, L_Y = 0, 1, 2, 3
# right-hand item kinds (arg: symbol id, lhs item index, hole index or constant)
R_TOKEN, R_CALL, R_COPY, R_HOLE, R_CONST = 0, 1, 2, 3, 4

# statuses of an evaluation; NO_SPACE and NO_ARENA ask the caller for more room and a rerun
OK, NO_RULE, FUEL, TOO_LONG, OVERFLOW, EMPTY, NO_SPACE, NO_ARENA = 0, 1, 2, 3, 4, 5, 6, 7
# interned rules of one demonstration (``rules.py``, ``outcomes.py``): columns of rmeta (offset
# in the pool, ints, left-hand items); a profiled cost too large to bound (the example then
# always runs whole); how far one rule is profiled on one example, at most and at least
RM_OFF, RM_LEN, RM_LHS = 0, 1, 2
SAT = 2**40
PROFILE_MAX, PROFILE_MIN = 10**7, 10**4
# statuses of a lowered program
VALID, INVALID, NEEDS_REFERENCE = 0, 1, 2

# Numba options of the hot kernels. They run without Numba's reference counting (_nrt=False):
# counting every array view made evaluation 5-15x slower. So they allocate nothing; the
# drivers that call them (NRT on) allocate their scratch arrays.
HOT = {"cache": True, "_nrt": False}
HOT_INLINE = {"cache": True, "_nrt": False, "inline": "always"}

INT_LIMIT = 2**62
INT_CLAMP = 2**63 - 1  # integers past int64 behave like this one: every sum or product overflows
