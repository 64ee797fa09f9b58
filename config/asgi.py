"""ASGI entry point; checks the registry's signing key at start-up like
config/wsgi.py."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from recognition.checks import require_registry_signing_key  # noqa: E402 (needs the loaded app registry)
from recognition.log import witnesses  # noqa: E402
from recognition.log.integrator import start_in_background  # noqa: E402

require_registry_signing_key()
# The audit log's integrator, in a thread of this process (AUDIT_INTEGRATOR).
start_in_background()
# The witness pusher beside it, in its own thread (DESIGN §11).
witnesses.start_in_background()
