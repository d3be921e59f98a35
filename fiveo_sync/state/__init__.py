"""The SQLite state store and the run lock."""

from fiveo_sync.state.lock import RunLock
from fiveo_sync.state.store import StateStore

__all__ = ["RunLock", "StateStore"]
