"""Container health check for the web service: the server answers HTTP (any status < 500)."""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
try:
    urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=4)  # noqa: S310 - fixed local URL
except urllib.error.HTTPError as exc:
    sys.exit(0 if exc.code < 500 else 1)
except OSError:
    sys.exit(1)
