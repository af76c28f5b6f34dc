"""Dev mode only on 127.0.0.1, checked by the worker on the socket it really serves.

``tipscore serve`` refuses ``--dev`` on another host, but a worker can be started in other
ways (``bentoml serve --host 0.0.0.0``, a ``.env`` that says ``TIPSCORE_DEV_MODE=true``
where the command did not look). So the service itself, when its settings ask for dev mode,
looks at the sockets its process listens on and refuses to start on any address but the
loopback one. In-process (a test client) there is no socket, and nothing to expose.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
"""Where dev mode may listen: 127.0.0.1 itself (and IPv6's ``::1``), not 127.0.0.2."""


class DevModeRefused(RuntimeError):
    """Dev mode was asked for on a socket other machines (or other loopback names) reach."""


def listening_hosts() -> set[str]:
    """The addresses this process listens on (TCP), e.g. BentoML's inherited socket."""
    import psutil  # type: ignore[import-untyped]

    connections = psutil.Process().net_connections(kind="inet")
    return {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}


def check_dev_mode(dev_mode: bool, hosts: set[str] | None = None) -> None:
    """Raise ``DevModeRefused`` when dev mode is on and any listening host is not loopback."""
    if not dev_mode:
        return
    found = listening_hosts() if hosts is None else hosts
    wrong = sorted(found - LOOPBACK)
    if wrong:
        raise DevModeRefused(
            "dev mode accepts requests without a key, so it only listens on 127.0.0.1; "
            f"this service listens on {', '.join(wrong)}. Unset TIPSCORE_DEV_MODE (in the "
            "environment or HOME/.env) or serve on 127.0.0.1."
        )
    logger.warning("DEV MODE: requests without a key are accepted as admin")
