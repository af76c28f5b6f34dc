"""Dev mode only on 127.0.0.1, checked by the worker on the socket it really serves.

``tipscore serve`` refuses ``--dev`` on another host, but a worker can be started in other
ways (``bentoml serve --host 0.0.0.0``, a ``.env`` that says ``TIPSCORE_DEV_MODE=true``
where the command did not look). So the service itself, when its settings ask for dev mode,
looks at the sockets its process listens on and refuses to start on any address but the
loopback one. It fails closed: when it cannot prove that every listening socket is on the
loopback address (no listening socket found, or the process's sockets cannot be read), it
refuses too, since an unseen socket may be any address.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
"""Where dev mode may listen: 127.0.0.1 itself (and IPv6's ``::1``), not 127.0.0.2."""


class DevModeRefused(RuntimeError):
    """Dev mode was asked for on a socket other machines (or other loopback names) reach."""


def listening_hosts() -> set[str]:
    """The addresses this process listens on (TCP), e.g. BentoML's inherited socket.

    Raises ``DevModeRefused`` when the sockets cannot be read (``psutil`` denied).
    """
    import psutil  # type: ignore[import-untyped]

    try:
        connections = psutil.Process().net_connections(kind="inet")
    except psutil.Error as exc:
        raise DevModeRefused(
            "dev mode accepts requests without a key, so it needs proof that this "
            f"service listens on 127.0.0.1 only; its sockets cannot be read ({exc!r})"
        ) from None
    return {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}


def check_dev_mode(dev_mode: bool, hosts: set[str] | None = None) -> None:
    """Raise ``DevModeRefused`` unless dev mode is off or every listening host is loopback.

    No listening socket at all proves nothing (the socket may be one psutil does not show),
    so it is refused as well: dev mode runs only under a real server on 127.0.0.1.
    """
    if not dev_mode:
        return
    found = listening_hosts() if hosts is None else hosts
    if not found:
        logger.error("dev mode refused: no listening socket of this process was found")
        raise DevModeRefused(
            "dev mode accepts requests without a key, so it only listens on 127.0.0.1; "
            "no listening socket of this service was found, so where it listens cannot "
            "be proven. Unset TIPSCORE_DEV_MODE (in the environment or HOME/.env) or "
            "serve with `tipscore serve --dev` on 127.0.0.1."
        )
    wrong = sorted(found - LOOPBACK)
    if wrong:
        raise DevModeRefused(
            "dev mode accepts requests without a key, so it only listens on 127.0.0.1; "
            f"this service listens on {', '.join(wrong)}. Unset TIPSCORE_DEV_MODE (in the "
            "environment or HOME/.env) or serve on 127.0.0.1."
        )
    logger.warning("DEV MODE: requests without a key are accepted as admin")
