import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from xietong.courtroom.routing import websocket_urlpatterns as courtroom_sockets  # noqa: E402
from xietong.supervision.routing import websocket_urlpatterns as alert_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # the courtroom's screens (a screen code joins a display) and the live alerts; the session
        # cookie signs them in
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([*courtroom_sockets, *alert_sockets]))
        ),
    }
)

# Embedded default: background jobs (OCR, rendering) run in this process; jobs left by a process
# that died are put back in the queue first. No-op when XIETONG_INPROCESS_TASKS=0.
from xietong import jobs, tasks  # noqa: E402

jobs.start_inprocess_worker()
tasks.start_periodic()  # judgments taking effect, 报到 and term reminders, the daily custody check
