"""Regression tests for the server half of the hardening issue, one per defect (named after it).

They run the real loopback server of tests/server/serverkit.py; that folder is put on the
path here because this one is a package (its modules are imported as hardening_server.*).
"""

import sys
from pathlib import Path

_SERVER_TESTS = str(Path(__file__).resolve().parent.parent / "server")
if _SERVER_TESTS not in sys.path:
    sys.path.insert(0, _SERVER_TESTS)
