"""From the options of `plaza sync add` and `plaza sync edit` to a Job (pure; no I/O).

Options given replace what a job had; site options choose the sites anew; `--library` alone
on a new job means those libraries on every site.
"""

from __future__ import annotations

from dataclasses import replace

from sync.jobs import PEOPLE, InvalidJob, Job, documents_job, people_job
from sync.schedules import Schedule
from sync.targets import DocumentTarget


def new_job(name: str, people: bool, every, cron, tz, target_options: dict) -> Job:
    """The job `plaza sync add` describes (InvalidJob / BadSchedule if it cannot be)."""
    schedule = schedule_from(every, cron, tz)
    if schedule is None:
        raise InvalidJob("say when the job runs: --every INTERVAL or --cron EXPR")
    if people:
        if any(target_options.values()):
            raise InvalidJob("--people mirrors people and groups: it takes no site options")
        return people_job(name, schedule)
    return documents_job(name, target_from(DocumentTarget(), **target_options), schedule)


def edited(
    job: Job, people: bool, every, cron, tz, target_options: dict, write_back: bool | None = None
) -> Job:
    """The job with the given options applied (InvalidJob if they do not fit it);
    `write_back` None leaves write-back as it was."""
    if people and job.kind != PEOPLE:
        raise InvalidJob(f"job '{job.name}' mirrors documents; --people needs a new job")
    if not (every or cron or tz or any(target_options.values()) or write_back is not None):
        raise InvalidJob("nothing to change: give the options to replace")
    schedule = edited_schedule(job.schedule, every, cron, tz)
    if job.kind == PEOPLE:
        if any(target_options.values()):
            raise InvalidJob(
                f"job '{job.name}' mirrors people and groups: it takes no site options"
            )
        if write_back is not None:
            raise InvalidJob(
                f"job '{job.name}' mirrors people and groups: write-back applies to documents jobs"
            )
        return replace(job, schedule=schedule)
    assert job.target is not None
    changed = documents_job(job.name, target_from(job.target, **target_options), schedule)
    keep = job.write_back if write_back is None else write_back
    return replace(changed, enabled=job.enabled, created_at=job.created_at, write_back=keep)


def edited_schedule(current: Schedule, every, cron, tz) -> Schedule:
    """A new --every or --cron replaces the schedule (a new --cron keeps the old time zone
    unless --tz is given); --tz alone moves a cron schedule to another time zone."""
    if every or cron:
        keep_tz = current.tz if cron and current.cron and not tz else tz
        return schedule_from(every, cron, keep_tz)  # type: ignore[return-value]
    if tz:
        if not current.cron:
            raise InvalidJob("--tz applies to --cron schedules only")
        return Schedule.crontab(current.cron, tz)
    return current


def schedule_from(every: str | None, cron: str | None, tz: str | None) -> Schedule | None:
    if every and cron:
        raise InvalidJob("give either --every or --cron, not both")
    if tz and not cron:
        raise InvalidJob("--tz applies to --cron schedules only")
    if every:
        return Schedule.interval(every)
    if cron:
        return Schedule.crontab(cron, tz)
    return None


def target_from(
    base: DocumentTarget, all_sites, sites, site_search, libraries, include, exclude, file_types
) -> DocumentTarget:
    """`base` with the given options replacing its fields; sites are chosen anew when any site
    option is given; --library alone (on a new job) means those libraries on every site."""
    target = base
    if all_sites or sites or site_search is not None:
        target = replace(
            target,
            all_sites=bool(all_sites),
            site_urls=tuple(url.rstrip("/") for url in sites),
            site_search=site_search,
        )
    if libraries:
        target = replace(target, libraries=tuple(libraries))
        if target == replace(DocumentTarget(), libraries=target.libraries):
            target = replace(target, all_sites=True)
    if include:
        target = replace(target, include=tuple(include))
    if exclude:
        target = replace(target, exclude=tuple(exclude))
    if file_types:
        target = replace(target, file_types=tuple(t.lower().lstrip(".") for t in file_types))
    return target
