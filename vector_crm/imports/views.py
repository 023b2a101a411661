"""Browser flow of the file import: upload -> column mapping -> dry run with the error
report -> import as a background Job with a progress bar (htmx polls the step panel)."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vector_crm.errors import DomainError
from vector_crm.imports import engine, selectors, services
from vector_crm.imports.registry import get_importable, importables
from vector_crm.models import ImportStatus
from vector_crm.views import is_htmx, member_required

ISSUES_SHOWN = 100


def kind_choices() -> list[tuple[str, str]]:
    """Each importable, and each of its presets as ``<importable>:<preset>``."""
    choices = []
    for importable in importables():
        choices.append((importable.key, str(importable.label)))
        for preset in importable.presets.values():
            choices.append((f"{importable.key}:{preset.key}", f"{importable.label} — {preset.label}"))
    return choices


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Qué contiene el archivo"))
    file = forms.FileField(
        label=gettext_lazy("Archivo CSV o XLSX"),
        help_text=gettext_lazy("Separado por «;», «,» o tabulador; UTF-8 o Latin-1; o un libro .xlsx (primera hoja)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()


def _index_page(request, form: UploadForm, *, status: int = 200):
    context = {
        "form": form,
        "imports": list(selectors.import_list()[:30]),
        "limit": services.human_size(request.tenant.import_max_bytes),
    }
    return render(request, "imports/index.html", context, status=status)


@member_required("imports.run")
@require_http_methods(["GET", "POST"])
def index(request):
    """The tenant's recent imports and the upload form."""
    if request.method == "GET":
        return _index_page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        importable, _sep, preset = form.cleaned_data["kind"].partition(":")
        try:
            file_import = services.import_upload(
                actor=request.user,
                principal=request.membership,
                upload=form.cleaned_data["file"],
                importable=importable,
                preset=preset,
            )
        except DomainError as exc:
            form.add_error("file" if exc.field in ("file", "preset") else None, exc.message)
        else:
            return redirect("imports:detail", pk=file_import.pk)
    return _index_page(request, form, status=422)


def _mapping_rows(file_import, importable, preset, mapping, constants) -> list[dict]:
    derived = set(preset.derived) if preset else set()
    preset_constants = preset.constants if preset else {}
    rows = []
    for target in importable.targets:
        rows.append(
            {
                "target": target,
                "column": mapping.get(target.name, ""),
                "constant": constants.get(target.name, preset_constants.get(target.name, "")),
                "derived": target.name in derived,
            }
        )
    return rows


def _context(file_import, *, mapping=None, constants=None, error: str = "") -> dict:
    plan_importable = get_importable(file_import.importable)
    if plan_importable is None:
        raise Http404
    preset = plan_importable.presets.get(file_import.preset) if file_import.preset else None
    mapping = file_import.mapping if mapping is None else mapping
    constants = file_import.constants if constants is None else constants
    used = set(mapping.values())
    return {
        "imp": file_import,
        "importable": plan_importable,
        "preset": preset,
        "rows": _mapping_rows(file_import, plan_importable, preset, mapping, constants),
        "ignored": [h for h in file_import.headers if h not in used],
        "issues": list(selectors.import_issues(file_import)[:ISSUES_SHOWN]),
        "issues_shown": ISSUES_SHOWN,
        "error": error,
        "busy": file_import.is_busy,
        "can_map": file_import.status
        in {ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.VALIDATED, ImportStatus.FAILED},
        "can_validate": file_import.status in {ImportStatus.MAPPED, ImportStatus.VALIDATED, ImportStatus.FAILED},
        "can_run": file_import.status in {ImportStatus.VALIDATED},
    }


def _detail(request, file_import, *, status: int = 200, **extra):
    context = _context(file_import, **extra)
    template = "imports/partials/panel.html" if is_htmx(request) else "imports/detail.html"
    return render(request, template, context, status=status)


@member_required("imports.run")
@require_GET
def detail(request, pk: int):
    """The import's current step: mapping, progress, error report or result."""
    return _detail(request, selectors.access_import(pk))


def _posted_mapping(request) -> tuple[dict, dict]:
    mapping = {k.removeprefix("map__"): v for k, v in request.POST.items() if k.startswith("map__") and v}
    constants = {k.removeprefix("const__"): v for k, v in request.POST.items() if k.startswith("const__") and v}
    return mapping, constants


@member_required("imports.run")
@require_POST
def mapping(request, pk: int):
    """Confirm the mapping; problems are listed above the form (422)."""
    file_import = selectors.access_import(pk)
    posted, constants = _posted_mapping(request)
    try:
        services.import_set_mapping(
            actor=request.user,
            principal=request.membership,
            file_import=file_import,
            mapping=posted,
            constants=constants,
        )
    except DomainError as exc:
        return _detail(request, file_import, status=422, mapping=posted, constants=constants, error=exc.message)
    return redirect("imports:detail", pk=file_import.pk)


def _start(request, pk: int, service, **options):
    """Queue a job of the import; a refusal is shown on the import page (422)."""
    file_import = selectors.access_import(pk)
    try:
        service(actor=request.user, principal=request.membership, file_import=file_import, **options)
    except DomainError as exc:
        return _detail(request, file_import, status=422, error=exc.message)
    return redirect("imports:detail", pk=file_import.pk)


@member_required("imports.run")
@require_POST
def dry_run(request, pk: int):
    return _start(request, pk, services.import_start_dry_run)


@member_required("imports.run")
@require_POST
def run(request, pk: int):
    return _start(request, pk, services.import_start, only_valid=request.POST.get("only_valid") in ("1", "on", "true"))


@member_required("imports.run")
@require_GET
def report(request, pk: int):
    """Every issue of the last dry run or import as CSV (``;``, UTF-8 with BOM for Excel)."""
    file_import = selectors.access_import(pk)
    path = engine.report_path(file_import)
    if not path.exists():
        raise Http404
    name = f"errores-{file_import.pk}.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="text/csv; charset=utf-8")
