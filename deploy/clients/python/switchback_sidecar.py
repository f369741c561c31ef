"""Follow the Switchback sidecar API from a Python application.

The agent beside your application answers ``GET /v1/active`` with the active site, its Kafka
bootstrap servers, the epoch and a ``state``:

- ``serving``: the active site serves and its consumer groups are positioned: use it;
- ``promoting``: a new active site is positioning groups: do not create clients yet;
- ``switching``: a planned switchover is in progress: stop producing;
- ``fenced``: no active site can be confirmed from here: pause.

``SidecarFollower`` long-polls (``?wait=30s&after=EPOCH&state=STATE``), so it hears of every
change at once without polling in a loop, and calls your callback with each new answer. What an
application does with it (pause, re-create Kafka clients on a new epoch) is shown in
``orders_app.py``. Standard library only.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional

STATES = ("serving", "promoting", "switching", "fenced")


@dataclass(frozen=True)
class ActiveSite:
    """One answer of ``GET /v1/active``."""

    epoch: int
    active_site: str
    bootstrap_servers: tuple
    state: str
    serving_here: bool

    @property
    def usable(self) -> bool:
        """Whether applications should produce and consume now."""
        return self.state == "serving" and bool(self.bootstrap_servers)

    @property
    def bootstrap(self) -> str:
        """``bootstrap.servers`` for a Kafka client."""
        return ",".join(self.bootstrap_servers)

    @staticmethod
    def parse(body: bytes) -> "ActiveSite":
        """Reads an answer; raises ValueError naming what is wrong (the agent is outside input)."""
        try:
            doc = json.loads(body)
        except json.JSONDecodeError as error:
            raise ValueError(f"the sidecar's answer is not JSON: {error}") from None
        if not isinstance(doc, dict):
            raise ValueError("the sidecar's answer is not a JSON object")
        epoch = doc.get("epoch")
        site = doc.get("activeSite")
        servers = doc.get("bootstrapServers")
        # An agent from before the data plane answered without a state: it only ever said who
        # was active, so treat that as serving.
        state = doc.get("state", "serving")
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch {epoch!r} is not a non-negative integer")
        if not isinstance(site, str) or not site:
            raise ValueError(f"activeSite {site!r} is not a site name")
        if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
            raise ValueError(f"bootstrapServers {servers!r} is not a list of host:port strings")
        if state not in STATES:
            raise ValueError(f"state {state!r} is not one of {', '.join(STATES)}")
        return ActiveSite(epoch, site, tuple(servers), state, bool(doc.get("servingHere", False)))


class SidecarFollower:
    """Long-polls an agent's ``/v1/active`` and reports every change to ``on_change``.

    ``on_change(previous, current)`` runs on the follower's thread for every answer that differs
    from the last one in epoch, state or bootstrap servers (``previous`` is None the first time).
    While the agent cannot be reached, ``on_unreachable(error)`` is called once per failure and
    the follower retries with back-off (up to ``max_backoff`` seconds); the last answer stays
    current, but an application should treat a long silence like ``fenced``.
    """

    def __init__(
        self,
        agent_url: str,
        on_change: Callable[[Optional[ActiveSite], ActiveSite], None],
        on_unreachable: Optional[Callable[[Exception], None]] = None,
        wait_seconds: int = 30,
        max_backoff: float = 5.0,
        ca_file: Optional[str] = None,
    ):
        self._base = agent_url.rstrip("/")
        # An agent that serves HTTPS (its `tls:` section) is trusted through its CA only.
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self._on_change = on_change
        self._on_unreachable = on_unreachable
        self._wait = max(1, int(wait_seconds))
        self._max_backoff = max_backoff
        self._current: Optional[ActiveSite] = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def current(self) -> Optional[ActiveSite]:
        with self._lock:
            return self._current

    def fetch(self, timeout: float = 5.0) -> ActiveSite:
        """One immediate ``GET /v1/active`` (no long-poll)."""
        return self._get(f"{self._base}/v1/active", timeout)

    def start(self) -> "SidecarFollower":
        self._thread = threading.Thread(target=self._run, name="switchback-sidecar", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=self._wait + 5)

    def wait_until(self, predicate: Callable[[ActiveSite], bool], timeout: float) -> Optional[ActiveSite]:
        """Blocks until the current answer satisfies ``predicate`` or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.current
            if answer is not None and predicate(answer):
                return answer
            time.sleep(0.02)
        return None

    def _get(self, url: str, timeout: float) -> ActiveSite:
        with urllib.request.urlopen(url, timeout=timeout, context=self._ssl) as response:
            return ActiveSite.parse(response.read(1 << 16))

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopped.is_set():
            previous = self.current
            query = {"wait": f"{self._wait}s"}
            if previous is not None:
                query["after"] = str(previous.epoch)
                query["state"] = previous.state
            url = f"{self._base}/v1/active?{urllib.parse.urlencode(query)}"
            try:
                answer = self._get(url, timeout=self._wait + 5)
            except (urllib.error.URLError, OSError, ValueError) as error:
                if self._on_unreachable is not None:
                    self._on_unreachable(error)
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.1
            changed = previous is None or (answer.epoch, answer.state, answer.bootstrap_servers) != (
                previous.epoch, previous.state, previous.bootstrap_servers)
            with self._lock:
                self._current = answer
            if changed:
                self._on_change(previous, answer)
