"""Local Basic Memory Cloud emulator: a loopback server speaking AuthKit's device flow and the cloud API."""

from emulator.server import CloudEmulator
from emulator.settings import DEFAULT_CLIENT_ID, EmulatorSettings

__all__ = ["DEFAULT_CLIENT_ID", "CloudEmulator", "EmulatorSettings"]
