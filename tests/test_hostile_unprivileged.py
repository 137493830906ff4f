"""The hostile suite (tests/hostile_suite.py), graded by an unprivileged user (uid 61300, through
a private mount namespace and `setpriv`) under every isolation level this machine offers."""

from __future__ import annotations

from hostile_suite import *  # noqa: F401,F403  (the tests, collected here)
from hostile_suite import SETUPS, corpus_fixture

corpus = corpus_fixture([setup for setup in SETUPS if setup[0] == "unprivileged"])
