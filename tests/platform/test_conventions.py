"""Repository conventions that a reviewer would otherwise have to remember (STYLE.md).

Plain text checks over the source tree: no database, fast.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "var", "node_modules", "migrations", "__pycache__", ".git"}

# Where cross-tenant (unscoped) queries belong: the platform itself, management commands,
# tests and benchmarks. Anywhere else, a use needs `# unscoped: <why>` on its line.
UNSCOPED_ALLOWED = ("vector_crm/", "tests/", "bench/")
UNSCOPED_PRAGMA = re.compile(r"#\s*unscoped:\s*\S")
ENV_VAR = re.compile(r"""(?:os\.environ(?:\.get)?\(?\[?|env_bool\(|env_list\()\s*["']([A-Z][A-Z0-9_]+)["']""")


def python_files():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if not SKIP_DIRS.intersection(relative.parts):
            yield relative, path


def test_unscoped_managers_only_in_platform_code():
    offenders = []
    for relative, path in python_files():
        name = relative.as_posix()
        if name.startswith(UNSCOPED_ALLOWED) or "/management/commands/" in name:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.unscoped\b", line) and not UNSCOPED_PRAGMA.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, (
        "Tenant-owned models are queried through their scoped manager (objects / for_tenant). "
        "An unscoped query outside the platform needs `# unscoped: <why>` on its line:\n" + "\n".join(offenders)
    )


def test_celery_tasks_live_in_jobs_modules():
    """DESIGN.md: tasks live in `jobs.py`, never `tasks.py` (that name is the Tareas app)."""
    offenders = []
    for relative, path in python_files():
        name = relative.as_posix()
        if name.startswith("tests/") or relative.name in {"jobs.py", "background.py"}:
            continue
        if re.search(r"@(shared_task|app\.task|tenant_job)\b", path.read_text(encoding="utf-8")):
            offenders.append(name)
    assert not offenders, f"Celery tasks outside a jobs.py module: {offenders}"


def test_every_environment_variable_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    read = set()
    for source in (ROOT / "vector_crm" / "settings.py", ROOT / "vector_crm" / "celery.py", ROOT / "gunicorn.conf.py"):
        read |= set(ENV_VAR.findall(source.read_text(encoding="utf-8")))
    assert read, "no environment variables found: the pattern is stale"
    undocumented = sorted(name for name in read if f"`{name}`" not in readme)
    assert not undocumented, f"Document these in README.md's environment table: {undocumented}"
