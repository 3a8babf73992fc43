"""Figures for analysts, built without pyplot so they never touch global state."""
