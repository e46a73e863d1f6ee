"""Shared fixtures: private Redis servers and the store-contract fixture (see tests/support/)."""

pytest_plugins = ["tests.support.redis_fixtures", "tests.support.stores"]
