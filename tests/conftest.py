pytest_plugins = ["tests.support.redis_fixtures"]
