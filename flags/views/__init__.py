"""Browser screens of the flags app, one module per kind of entity (templates in
``templates/flags/``): ``gates``, ``configs``, ``experiments``, ``layers``, ``holdouts``, each with
its ``Screen``; ``generic`` holds the list and delete screens every kind shares (read from its
screen and its ``EntityKind``), ``buckets`` and ``charts`` the pictures the detail pages draw."""
