"""The QA leads' tools: check (lint), explain, examples, calibrate, diff, and corpus loading.

They read a compiled `RuleSet` and score calls with the same `Engine` as production;
their console rendering lives in `report/console.py`.
"""
