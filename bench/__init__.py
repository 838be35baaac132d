"""Benchmarks: bm's start-up (startup.py), two source trees side by side (compare.py), and the
emulator's start-up and request rate (emulator_rate.py)."""
