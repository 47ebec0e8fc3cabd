"""Experiments: suites of tasks, systems to compare, metrics, and the reports they write.

``run_eval(EvalConfig(...))`` is what ``metarlm eval`` calls; see ``metarlm.eval.suites`` for the
tasks, ``metarlm.eval.systems`` for the systems and ``metarlm.eval.metrics`` for the numbers.
"""

from __future__ import annotations

from metarlm.eval.runner import EvalConfig, plan_tasks, run_eval
from metarlm.eval.suites import SUITE_NAMES, EvalError, SuiteOptions, Task, build_tasks
from metarlm.eval.systems import SYSTEM_NAMES, Budgets

__all__ = ["SUITE_NAMES", "SYSTEM_NAMES", "Budgets", "EvalConfig", "EvalError", "SuiteOptions",
           "Task", "build_tasks", "plan_tasks", "run_eval"]
