"""The durable core: sequencer, journal, snapshots, recovery and the single-writer loop.

Import direction: this package uses ``hft.domain`` and is used by gateways,
adapters and the CLI; it never imports them.
"""
