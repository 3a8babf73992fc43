"""Progress bars: on a terminal for loops over a second; never in logs or with the switch off."""

from __future__ import annotations

import io
import time

import pytest

from growthlab.progress import SWITCH, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def slow_loop(stream: io.StringIO) -> list[int]:
    seen = []
    for i in progress(range(4), "backtest windows", unit="window", file=stream):
        time.sleep(0.4)  # the bar waits 1 s before it draws
        seen.append(i)
    return seen


def test_a_terminal_sees_the_bar_and_it_is_cleared_at_the_end() -> None:
    stream = Terminal()
    assert slow_loop(stream) == [0, 1, 2, 3]
    drawn = stream.getvalue()
    assert "backtest windows" in drawn and "/4" in drawn
    assert drawn.rstrip(" ").endswith("\r")  # leave=False: the line is blanked out


def test_a_log_file_gets_no_bar() -> None:
    stream = io.StringIO()
    assert slow_loop(stream) == [0, 1, 2, 3]
    assert stream.getvalue() == ""


def test_the_switch_turns_bars_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH, "0")
    stream = Terminal()
    assert slow_loop(stream) == [0, 1, 2, 3]
    assert stream.getvalue() == ""
