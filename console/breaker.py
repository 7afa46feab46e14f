"""A circuit breaker for Redis calls on request paths.

A Redis that is down refuses connections at once; a Redis that is paused (SIGSTOP, a full
disk, a failover in progress) accepts them and never answers, so every call waits for its
socket timeout. After a failure the breaker stays open for a back-off that doubles with each
failure in a row (``BASE_BACKOFF_SECONDS`` up to ``MAX_BACKOFF_SECONDS``): callers skip Redis
and use what they have in memory, and only one call per back-off pays a timeout to find out
whether Redis is back. A paused Redis then costs what a dead one does.
"""

from __future__ import annotations

import logging
import threading
import time

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BASE_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        base_backoff: float = BASE_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self.name = name
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0

    def allows(self) -> bool:
        """Whether a call may go to Redis now. When the back-off has passed, one caller gets
        through (the trial); the others keep skipping until it has answered."""
        if self._open_until == 0.0:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self._open_until:
                return False
            # The trial: others wait for its outcome (at most one back-off more).
            self._open_until = now + self._backoff()
            return True

    def succeeded(self) -> None:
        if self._failures:
            logger.info("%s: answering again, circuit closed", self.name)
        with self._lock:
            self._failures = 0
            self._open_until = 0.0

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self._open_until = time.monotonic() + self._backoff()
            failures = self._failures
        if failures == 1:
            logger.warning("%s: unavailable, circuit open error=%s", self.name, error)

    def reset(self) -> None:
        """Closes the circuit (tests, and after a configuration change)."""
        with self._lock:
            self._failures = 0
            self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def _backoff(self) -> float:
        exponent = max(self._failures - 1, 0)
        return min(self.max_backoff, self.base_backoff * (2 ** min(exponent, 16)))


#: What a Redis call raises when Redis is down, hung or refusing (OSError: socket failures
#: outside redis-py's own wrapping).
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

#: The shared Redis of this process: the ruleset revision check, the API-key revocation notice
#: and the exposure buffer all open and close it together.
REDIS = CircuitBreaker("redis")
