import pytest

from tests.e2e.browser import Screenshots


@pytest.fixture
def live_site(live_server, settings) -> str:
    """pytest-django's live server, its base URL. Production cookies are
    Secure (HTTPS only); the live server speaks plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url


@pytest.fixture
def screenshots(request) -> Screenshots:
    """This test's screenshots and accessibility reports, artifacts/e2e/<test>/."""
    return Screenshots(request.node.name)
