"""Property tests: register the Hypothesis profiles.

``property-ci`` is what a plain ``pytest`` run uses for the engine state
machine (under ``CI`` it inherits Hypothesis's derandomized ``ci`` profile, so
CI runs the same examples every time); ``HYPOTHESIS_PROFILE=soak`` switches
every property test to the long ``soak`` profile instead.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "property-ci",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    database=None,
    print_blob=True,
)
# About twenty times the work of property-ci: some six minutes on the 2-core machine.
settings.register_profile(
    "soak",
    max_examples=2_000,
    stateful_step_count=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

if os.environ.get("HYPOTHESIS_PROFILE") == "soak":
    settings.load_profile("soak")
