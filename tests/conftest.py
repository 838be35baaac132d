"""Fixtures for every suite: a real system keychain (see tests/keychain_daemon.py)."""

from tests.keychain_daemon import keychain, keychain_daemon, spare_keychain

__all__ = ["keychain", "keychain_daemon", "spare_keychain"]
