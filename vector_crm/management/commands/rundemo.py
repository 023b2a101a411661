"""``manage.py rundemo``: the whole embedded stack in one terminal.

Starts a Celery worker and beat (the broker from settings: by default kombu's filesystem
transport under var/, no server needed) and the web server (gunicorn with
gunicorn.conf.py, or Django's runserver), each in its own process group. Ctrl-C (or
SIGTERM) stops all three; if one of them dies, the others are stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT = 15


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on (default 127.0.0.1:8000)")
        parser.add_argument(
            "--web",
            choices=["gunicorn", "runserver"],
            default="gunicorn",
            help="web server: gunicorn with gunicorn.conf.py (default) or Django's runserver",
        )
        parser.add_argument("--no-beat", action="store_true", help="do not start Celery beat")

    def handle(self, *args, **options):
        base_dir = Path(settings.BASE_DIR)
        python = sys.executable
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("GUNICORN_WORKERS", "2")
        env["GUNICORN_BIND"] = options["addr"]
        commands = {
            "worker": [python, "-m", "celery", "-A", "vector_crm", "worker", "--loglevel=INFO", "--concurrency=2"],
        }
        if not options["no_beat"]:
            commands["beat"] = [
                python,
                "-m",
                "celery",
                "-A",
                "vector_crm",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ]
        if options["web"] == "gunicorn":
            commands["web"] = [python, "-m", "gunicorn", "-c", str(base_dir / "gunicorn.conf.py")]
        else:
            commands["web"] = [python, str(base_dir / "manage.py"), "runserver", "--noreload", options["addr"]]

        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        processes: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            for name, command in commands.items():
                # Own process group: the terminal's Ctrl-C reaches only us, and we stop the
                # children in order instead of each getting a SIGINT (and a second one).
                processes[name] = subprocess.Popen(command, cwd=base_dir, env=env, start_new_session=True)
            broker = settings.CELERY_BROKER_URL.split("://")[0]
            self.stdout.write(
                self.style.SUCCESS(
                    f"VECTOR CRM on http://{options['addr'].replace('127.0.0.1', 'localhost')}/ "
                    f"({options['web']}, Celery worker{' + beat' if 'beat' in processes else ''} on the "
                    f"{broker} broker). Ctrl-C stops everything."
                )
            )
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with code {process.returncode}; stopping the others.")
                        exit_code = process.returncode or 1
                        stopping = True
                        break
                else:
                    time.sleep(0.5)
        finally:
            self._stop_all(processes)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if exit_code:
            raise CommandError(f"rundemo stopped because a process exited ({exit_code}).", returncode=exit_code)
        self.stdout.write("Stopped.")

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        """SIGTERM each leader (celery and gunicorn then stop their own children cleanly),
        then SIGKILL whatever is left of each process group."""
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if process.poll() is None:
                process.wait(timeout=5)
