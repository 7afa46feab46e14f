"""Celery tasks of ID-file uploads: ``queue_upload`` stores the file and queues its reading
once the request commits, the beat job queues again the uploads whose worker died mid-file. The
reading itself is ``segments.uploads``."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from console.actors import Actor
from console.models import Project
from segments import uploads
from segments.models import Segment


def queue_upload(
    *, project: Project, actor: Actor, segment: Segment, upload, replace: bool = False
) -> str:
    """Stores the uploaded file and queues its processing once the request's transaction
    commits; returns the job id."""
    job_id = uploads.upload_create(
        project=project, actor=actor, segment=segment, upload=upload, replace=replace
    )
    transaction.on_commit(lambda: process_segment_upload.delay(job_id))
    return job_id


@shared_task(name="segments.tasks.process_segment_upload", ignore_result=True)
def process_segment_upload(job_id: str) -> None:
    uploads.upload_process(job_id)


@shared_task(name="segments.tasks.resume_stalled_uploads", ignore_result=True)
def resume_stalled_uploads() -> None:
    """Queues again the uploads whose worker died mid-file (beat, every minute)."""
    for job_id in uploads.upload_reclaim_stalled():
        process_segment_upload.delay(job_id)
