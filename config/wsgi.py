"""WSGI entry point. The registry's keys are checked here, once the
application is loaded: in production a missing or unreadable
REGISTRY_SIGNING_KEY or AUDIT_LOG_KEY stops start-up with
ImproperlyConfigured naming it, rather than failing at the first request.
The audit log's integrator and witness pusher start here too (no extra process)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from recognition.checks import require_registry_signing_key  # noqa: E402 (needs the loaded app registry)
from recognition.log import witnesses  # noqa: E402
from recognition.log.integrator import start_in_background  # noqa: E402

require_registry_signing_key()
# The audit log's integrator, in a thread of this process (AUDIT_INTEGRATOR).
start_in_background()
# The witness pusher beside it, in its own thread (DESIGN §11).
witnesses.start_in_background()
