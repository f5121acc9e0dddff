from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_wsgi_application()

from webapp.warmup import web_process_warm_up  # noqa: E402 (needs the apps loaded)

web_process_warm_up()
