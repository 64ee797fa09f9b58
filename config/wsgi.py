"""WSGI entry point. The registry's signing key is checked here, once the
application is loaded: in production a missing or unreadable
REGISTRY_SIGNING_KEY stops start-up with ImproperlyConfigured naming it,
rather than failing at the first trust-list request."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from recognition.checks import require_registry_signing_key  # noqa: E402 (needs the loaded app registry)

require_registry_signing_key()
