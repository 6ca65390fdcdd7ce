import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xietong.settings")
application = get_asgi_application()

# Embedded default: background jobs (OCR, rendering) run in this process; jobs left by a process
# that died are put back in the queue first. No-op when XIETONG_INPROCESS_TASKS=0.
from xietong import jobs  # noqa: E402

jobs.start_inprocess_worker()
