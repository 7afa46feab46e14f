"""User-data deletion (GDPR/CCPA), Statsig-compatible.

- ``POST /v1/delete_user_data`` and ``/v1/get_delete_user_data_request_status`` (``privacy.api``,
  server secret key only) and the Privacy screen (``privacy.views``) accept requests through
  ``privacy.services.deletion_request_submit``; nothing can cancel or edit one.
- ``privacy.tasks.process_deletions`` (beat, ``DELETION_SCHEDULE_CRON``), the hourly
  ``process_deletions_due_soon`` (7 days or less left), the console's "process now" and
  ``manage.py process_deletions`` all run ``privacy.services.deletion_process_pending``: pending
  requests oldest first, each claimed by one worker (``privacy.locks``), every eraser of the
  registry (``privacy.erasers``) run chunk by chunk with progress saved per chunk, then the request
  is completed and its id list wiped in one transaction. ``manage.py deletion_status`` reports.
- Every app that stores user ids registers an eraser in its ``erasers.py``; the console's own
  (audit-log payloads, reviews) are in ``privacy.erasers_console``.
"""
