import os

import pytest


@pytest.fixture(scope="session")
def as_url():
    """The example web tier under test, Python or PHP (also the issuer), started by
    scripts/test-cross-language.sh."""
    url = os.environ.get("AS_URL")
    assert url, "AS_URL is not set"
    return url


def pytest_collection_modifyitems(items):
    """The test that stops the service runs last, whatever the file order."""
    items.sort(key=lambda item: item.module.__name__ == "test_web_tier_grpc_down")
