"""Browser screens of the flags app, one module per area (templates in ``templates/flags/``):
``gates``, ``configs``, ``experiments``, ``layers`` (layers and holdouts) and ``events``;
``common``, ``editor`` and ``charts`` hold what they share."""
