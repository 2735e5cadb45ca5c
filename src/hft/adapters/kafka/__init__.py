"""Kafka as an event broker: one topic per event stream, one ordered lane per partition (aiokafka)."""
