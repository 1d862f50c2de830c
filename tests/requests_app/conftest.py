"""The D4 corpus report (test_d4_guard_corpus.py) printed in pytest's terminal summary, even without -s."""

import pytest

D4_REPORT = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(D4_REPORT, None)
    if lines:
        terminalreporter.section("D4 : garde-fou des zones de texte libre, mesuré sur le corpus")
        for line in lines:
            terminalreporter.write_line(line)
