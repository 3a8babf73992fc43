"""When people buy: seasonal profiles and the operational clock built from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.data.simulator.draws import SEGMENTS

# When people buy (a purchase's and a sign-up's intensity is the product of the three;
# each profile is normalised to mean one, so purchase_rate stays "per average year").
# Yearly: a mild winter high, Black Friday / Cyber Monday and the run-up to Christmas.
SEASON_AMPLITUDE = 0.20  # cosine with its peak at SEASON_PEAK_DAY (day of year)
SEASON_PEAK_DAY = 350
# (day of year, width in days, height) of the holiday bumps on top.
HOLIDAY_BUMPS: tuple[tuple[float, float, float], ...] = ((331.0, 4.0, 1.0), (350.0, 8.0, 0.5))
# Monday..Sunday, rows follow SEGMENTS: businesses buy on weekdays, consumers at weekends.
WEEKDAY_PROFILE = np.array(
    [
        [0.95, 0.92, 0.92, 0.95, 1.00, 1.10, 1.16],
        [1.18, 1.18, 1.15, 1.12, 1.00, 0.35, 0.22],
        [1.22, 1.22, 1.20, 1.15, 1.00, 0.13, 0.08],
    ]
)
# Hour of day 0..23, rows follow SEGMENTS: consumers shop in the evening, businesses
# from 9 to 5 (time zones are ignored). Each row is written as hours 0-11, then 12-23.
HOUR_PROFILE = np.array(
    [
        [0.30, 0.18, 0.10, 0.07, 0.06, 0.08, 0.18, 0.40, 0.65, 0.80, 0.90, 1.00],
        [1.10, 1.05, 1.00, 1.00, 1.05, 1.15, 1.30, 1.50, 1.60, 1.50, 1.10, 0.65],
        [0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.70, 1.40, 1.90, 2.00, 1.90],
        [1.40, 1.70, 1.90, 1.80, 1.50, 1.00, 0.50, 0.30, 0.20, 0.15, 0.10, 0.07],
        [0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.25, 0.70, 1.40, 1.90, 2.00, 1.90],
        [1.40, 1.70, 1.90, 1.80, 1.50, 1.00, 0.50, 0.30, 0.20, 0.15, 0.10, 0.07],
    ]
).reshape(3, 24)
HOURS_PER_YEAR = 365.25 * 24


def _yearly_profile(day_of_year: np.ndarray) -> np.ndarray:
    """Seasonal purchase intensity by day of year (1..366), before normalisation."""
    angle = 2 * np.pi * (day_of_year - SEASON_PEAK_DAY) / 365.25
    level = 1.0 + SEASON_AMPLITUDE * np.cos(angle)
    for day, width, height in HOLIDAY_BUMPS:
        level = level + height * np.exp(-0.5 * ((day_of_year - day) / width) ** 2)
    return level


def _operational_clock(start: np.datetime64, days: int, growth: float = 1.0) -> np.ndarray:
    """Cumulative intensity at every hour boundary of the window, one row per segment.

    Row ``s`` is the operational time (in average years) of segment ``s``: an event
    process of constant rate in operational time is, in calendar time, a process whose
    rate follows the yearly, weekly and hourly profiles (times ``growth ** (t / days)``,
    used for sign-ups). Intensity is constant within an hour, so the clock is piecewise
    linear and ``np.interp`` maps both ways exactly. Shape ``(len(SEGMENTS), 24 * days + 1)``.
    """
    dates = start + np.arange(days).astype("timedelta64[D]")
    yearly = _yearly_profile(pd.DatetimeIndex(dates).day_of_year.to_numpy().astype(float))
    yearly = yearly / _yearly_profile(np.arange(1, 366, dtype=float)).mean()
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weekly = WEEKDAY_PROFILE / WEEKDAY_PROFILE.mean(axis=1, keepdims=True)
    hourly = HOUR_PROFILE / HOUR_PROFILE.mean(axis=1, keepdims=True)
    intensity = (yearly * weekly[:, weekday])[:, :, None] * hourly[:, None, :]
    intensity = intensity.reshape(len(SEGMENTS), 24 * days)
    if growth != 1.0:
        intensity = intensity * growth ** (np.arange(24 * days) / (24 * days))
    clock = np.zeros((len(SEGMENTS), 24 * days + 1))
    np.cumsum(intensity / HOURS_PER_YEAR, axis=1, out=clock[:, 1:])
    return clock


def _seconds(hours: np.ndarray, end_seconds: int) -> np.ndarray:
    """Whole seconds (int64) from hours since the window start, capped at its last second."""
    return np.minimum(np.round(hours * 3600), end_seconds).astype(np.int64)


def _clock_to_hours(clock: np.ndarray, segment: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Calendar hours since the window start at operational times ``tau`` (per segment)."""
    grid = np.arange(clock.shape[1], dtype=float)
    hours = np.empty(len(tau))
    for s in range(len(clock)):
        rows = segment == s
        hours[rows] = np.interp(tau[rows], clock[s], grid)
    return hours


def _hours_to_clock(clock: np.ndarray, segment: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Operational times at calendar ``hours`` since the window start (per segment)."""
    grid = np.arange(clock.shape[1], dtype=float)
    tau = np.empty(len(hours))
    for s in range(len(clock)):
        rows = segment == s
        tau[rows] = np.interp(hours[rows], grid, clock[s])
    return tau
