"""Danh mục and Thay đổi: the catalogue searched and shown, the staff fields of a procedure edited, a re-import
from the source records staged, compared and accepted or discarded, and "Cập nhật trợ lý" (the export job that
rebuilds the bot's data and index). Every change is audited.
"""
from __future__ import annotations

import shutil

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import requires
from console.catalogue import accept_reimport, changed_since_staging, save_staff_fields, stage_reimport
from console.catalogue import search as catalogue_search
from console.web import console_of, error, render, staff_of

NOT_IN_CATALOGUE = "Không có thủ tục này trong danh mục."


@requires()
def changes(request: Request) -> Response:
    """The changes since the last export, and the state of the export job."""
    console = console_of(request)
    return render(request, "changes.html", pending=console.store.changes_since_export(), export=console.export_state)


@requires("editor", write=True)
def export(request: Request, form: FormData) -> Response:
    """Start "Cập nhật trợ lý" in the background."""
    console_of(request).run_export(staff_of(request).username)
    return RedirectResponse("/changes?msg=exporting", status_code=303)


@requires()
def catalogue_list(request: Request) -> Response:
    """The catalogue, searched by name, code or alias."""
    q = request.query_params.get("q", "")
    return render(request, "catalogue.html", q=q, items=catalogue_search(console_of(request).catalogue, q))


@requires()
def catalogue_detail(request: Request) -> Response:
    """One procedure, with the form for its staff fields."""
    proc = console_of(request).catalogue.get(request.path_params["code"])
    if proc is None:
        return error(request, 404, NOT_IN_CATALOGUE)
    return render(request, "procedure.html", proc=proc)


@requires("editor", write=True)
def catalogue_save(request: Request, form: FormData) -> Response:
    """Save a procedure's staff fields (aliases, notes, provincial fees); the changes audited field by field."""
    console, staff = console_of(request), staff_of(request)
    code = request.path_params["code"]
    try:
        changed = save_staff_fields(console.settings.knowledge.catalogue_dir, code,
                                    str(form.get("aliases", "")).splitlines(), str(form.get("staff_notes", "")),
                                    str(form.get("province_fees", "")))
    except KeyError:
        return error(request, 404, NOT_IN_CATALOGUE)
    console.forget_catalogue()
    if changed:
        console.store.audit(staff.username, "catalogue_edit", code,
                            **{k: {"before": v[0], "after": v[1]} for k, v in changed.items()})
    return RedirectResponse(f"/catalogue/{code}?msg=saved", status_code=303)


STAGED_TOO_OLD = ("Danh mục đã được sửa sau khi đọc hồ sơ gốc, nên bản nhập này không còn khớp. "
                  "Bạn bấm \"Đọc hồ sơ gốc và so sánh\" để đọc lại, rồi nhận bản mới.")


@requires("editor")
def reimport_page(request: Request) -> Response:
    """The staged re-import's differences, if one is staged."""
    console = console_of(request)
    return render(request, "reimport.html", staged=console.staged)


@requires("editor", write=True)
def reimport_stage(request: Request, form: FormData) -> Response:
    """Read the source records into the staging folder and compare it with the catalogue."""
    console, staff = console_of(request), staff_of(request)
    knowledge = console.settings.knowledge
    try:
        staged = stage_reimport(knowledge.records_dir, knowledge.aliases_file, knowledge.catalogue_dir,
                                console.staging)
    except (FileNotFoundError, OSError) as exc:
        return render(request, "reimport.html", status=400, staged=None, error=f"Không đọc được hồ sơ gốc: {exc}")
    console.store.audit(staff.username, "reimport_stage", str(knowledge.records_dir),
                        changes=len(staged["diff"]))
    return RedirectResponse("/catalogue-import", status_code=303)


@requires("editor", write=True)
def reimport_decide(request: Request, form: FormData) -> Response:
    """Accept the staged re-import (staff fields kept) or discard it."""
    console, staff = console_of(request), staff_of(request)
    knowledge = console.settings.knowledge
    staged = console.staged
    if request.path_params["decision"] == "accept":
        if staged is None:  # nothing staged, or a staging folder left half-written: stage again
            return RedirectResponse("/catalogue-import", status_code=303)
        if changed_since_staging(staged, knowledge.catalogue_dir):
            return render(request, "reimport.html", status=409, staged=staged, error=STAGED_TOO_OLD)
        count = accept_reimport(console.staging, knowledge.catalogue_dir)
        console.forget_catalogue()
        console.store.audit(staff.username, "reimport_accept", str(knowledge.records_dir), procedures=count,
                            changes=[{"code": r["code"], "status": r["status"], "fields": [f[0] for f in r["fields"]]}
                                     for r in staged["diff"]])
        return RedirectResponse("/changes?msg=imported", status_code=303)
    if not console.staging.exists():
        return RedirectResponse("/catalogue-import", status_code=303)
    shutil.rmtree(console.staging, ignore_errors=True)
    console.store.audit(staff.username, "reimport_discard", str(knowledge.records_dir))
    return RedirectResponse("/catalogue?msg=discarded", status_code=303)


routes = [
    Route("/changes", changes),
    Route("/changes/export", export, methods=["POST"]),
    Route("/catalogue", catalogue_list),
    Route("/catalogue/{code}", catalogue_detail),
    Route("/catalogue/{code}", catalogue_save, methods=["POST"]),
    Route("/catalogue-import", reimport_page),
    Route("/catalogue-import/stage", reimport_stage, methods=["POST"]),
    Route("/catalogue-import/{decision:str}", reimport_decide, methods=["POST"]),
]
