"""Adapters: the real files, network, clock and browser behind the domain ports."""
