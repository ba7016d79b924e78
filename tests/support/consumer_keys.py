"""The tests' consumer key of distribution (this module holds no tests).

Every test service, in-process (``tests.support.distribution.service_settings``) or as a
process (``service_env``, ``tests.support.platform``), accepts :data:`TEST_KEY`: name
``tests``, every scope, limits no test reaches. Tests of the keys themselves add their own.
"""

from __future__ import annotations

TEST_KEY = "tests-key-every-scope-0123456789"
TEST_KEYS = f"tests:{TEST_KEY}:all:rate=1000000|burst=1000000|connections=10000|subscriptions=10000000"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
