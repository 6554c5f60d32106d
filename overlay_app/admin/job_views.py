"""The console's routes for sync jobs, health and the connector check (pages and API)."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext

from overlay_app import db
from overlay_app.admin import health, jobs
from overlay_app.admin.gate import bp
from overlay_app.errors import BadInput, NotFound, form_reply
from overlay_app.identity import require_person
from sync import runs as sync_runs
from sync.jobs import JobNotFound, get_job, list_jobs


def _settings():
    return current_app.extensions["plaza.settings"]


@bp.get("/admin/jobs")
def jobs_page():
    index = db.index()
    latest = sync_runs.latest_runs(index)
    listed = [(job, latest.get(job.name)) for job in list_jobs(index)]
    return render_template("admin/jobs.html", jobs=listed, report=_health())


@bp.post("/admin/jobs")
def add_job():
    person, form = require_person(), jobs.JobForm.parse(request.form)
    return form_reply(
        "/admin/jobs", lambda: f"/admin/jobs/{jobs.do_add(_settings(), person, form).name}"
    )


@bp.get("/admin/jobs/<name>")
def job_page(name: str):
    index = db.index()
    try:
        job = get_job(index, name)
    except JobNotFound as exc:
        raise NotFound() from exc
    history = sync_runs.history(index, name, limit=20)
    return render_template(
        "admin/job.html", job=job, history=history, progress=jobs.live_progress(_settings(), name)
    )


@bp.post("/admin/jobs/<name>/edit")
def edit_job(name: str):
    person, form = require_person(), jobs.JobForm.parse(request.form)
    return form_reply(
        f"/admin/jobs/{name}", lambda: jobs.do_edit(_settings(), person, name, form) and None
    )


@bp.post("/admin/jobs/<name>/pause")
def pause_job(name: str):
    person = require_person()
    return form_reply(
        f"/admin/jobs/{name}", lambda: jobs.do_set_enabled(_settings(), person, name, False)
    )


@bp.post("/admin/jobs/<name>/resume")
def resume_job(name: str):
    person = require_person()
    return form_reply(
        f"/admin/jobs/{name}", lambda: jobs.do_set_enabled(_settings(), person, name, True)
    )


@bp.post("/admin/jobs/<name>/remove")
def remove_job(name: str):
    person = require_person()
    return form_reply("/admin/jobs", lambda: jobs.do_remove(_settings(), person, name))


@bp.post("/admin/jobs/<name>/run")
def run_job(name: str):
    person = require_person()
    full = request.form.get("full") == "1"
    return form_reply(
        f"/admin/jobs/{name}", lambda: jobs.do_run_now(_settings(), person, name, full)
    )


@bp.get("/admin/health")
def health_page():
    report = _health()
    report["problems"] = health.problems(report, say=gettext)  # the page's language
    return render_template("admin/health.html", report=report)


@bp.get("/admin/connector")
def connector_page():
    try:
        report, problem = _connector_check(), None
    except BadInput as exc:  # not configured: said on the page, which is what it is for
        report, problem = None, exc.words()
    return render_template("admin/connector.html", report=report, problem=problem)


# -- API -------------------------------------------------------------------------------------


@bp.get("/api/v1/admin/jobs")
def api_jobs():
    index = db.index()
    latest = sync_runs.latest_runs(index)
    listed = []
    for job in list_jobs(index):
        run = latest.get(job.name)
        listed.append({**jobs.job_json(job), "lastRun": jobs.run_json(run) if run else None})
    return jsonify({"jobs": listed})


@bp.post("/api/v1/admin/jobs")
def api_add_job():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("Send the job as a JSON object.")
    saved = jobs.do_add(_settings(), require_person(), jobs.JobForm.parse(body))
    return jsonify(jobs.job_json(saved)), 201


@bp.get("/api/v1/admin/jobs/<name>/progress")
def api_job_progress(name: str):
    return jsonify(jobs.live_progress(_settings(), name))


@bp.post("/api/v1/admin/jobs/<name>/run")
def api_run_job(name: str):
    body = request.get_json(silent=True) or {}
    full = isinstance(body, dict) and body.get("full") is True
    jobs.do_run_now(_settings(), require_person(), name, full=full)
    return jsonify(jobs.live_progress(_settings(), name)), 202


@bp.get("/api/v1/admin/health")
def api_health():
    return jsonify(_health())


def _health() -> dict:
    settings = _settings()
    return health.gather(db.index(), settings.data_dir, settings.realtime_url)


def _connector_check():
    """`plaza connector check`, run now with the process's PLAZA_* connector settings."""
    from connector.check import run_check
    from connector.errors import SettingsError
    from connector.settings import ConnectorSettings

    try:
        return run_check(ConnectorSettings.from_env())
    except SettingsError as exc:
        raise BadInput("The connector is not configured: %(problem)s", problem=str(exc)) from exc
