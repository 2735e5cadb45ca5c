"""Implementations of the venue's ports: storage and messaging behind the trading core. They never decide anything."""
