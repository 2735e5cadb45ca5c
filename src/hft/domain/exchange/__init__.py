"""The exchange: matching engine plus accounts, positions, P&L and pre-trade risk.

Pure and synchronous like the engine it wraps: ``Exchange.apply`` takes one
command and the time the sequencer stamped on it and returns the events.
"""
