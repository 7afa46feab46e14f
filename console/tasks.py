from __future__ import annotations

from celery import shared_task

from console.services.usage import api_key_usage_flush


@shared_task(name="console.tasks.flush_api_key_usage", ignore_result=True)
def flush_api_key_usage() -> int:
    return api_key_usage_flush()
