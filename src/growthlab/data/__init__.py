"""Data: datasets (files, the simulator), column roles and splitters."""
