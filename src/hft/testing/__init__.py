"""Helpers shared by tests, backtests and adapters: never imported by the platform itself."""
