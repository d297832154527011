"""The read-only web server: `jisr-kg serve` (the SPARQL 1.1 Protocol, the stored queries as a web API,
the graph's IRIs resolving to their descriptions) and, beside it, the HTML pages.

>>> from jisr_kg.web import serve
>>> serve(port=8000)  # until Ctrl-C or SIGTERM
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jisr_kg.paths import DEFAULT_REASONER


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    timeout: float = 30.0,
    data: Path | None = None,
    reasoner: str = DEFAULT_REASONER,
    workers: int | None = None,
    max_rows: int | None = None,
    progress: Callable[[str], None] | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the built dataset (built first if the cache has no entry) until interrupted.

    Binds `host:port` before anything else is started (port 0: a free port), tells `announce` the
    address, and on SIGINT or SIGTERM stops taking requests, lets the running ones finish and stops the
    query workers, then returns."""
    import asyncio
    import signal
    import socket

    import uvicorn

    from jisr_kg.errors import UsageError
    from jisr_kg.web.app import create_app
    from jisr_kg.web.context import Context, Settings

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as e:
        raise UsageError(f"cannot listen on {host}:{port}: {getattr(e, 'strerror', None) or e}") from None
    sock.setblocking(False)
    bound_port = sock.getsockname()[1]

    settings = Settings(data=data, reasoner=reasoner, timeout=timeout)
    overrides = {k: v for k, v in (("workers", workers), ("max_rows", max_rows)) if v is not None}
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    ctx = Context(settings, progress=progress)
    app = create_app(ctx)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: object) -> None:
            # uvicorn would raise the signal again once stopped; a stop we asked for is a clean exit.
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    server = Server(config)
    shown = f"[{host}]" if ":" in host else host

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            announce(f"serving http://{shown}:{bound_port}/ (SPARQL endpoint: http://{shown}:{bound_port}/sparql); "
                     "Ctrl-C stops")
        await task

    try:
        try:
            import uvloop  # faster, where it is installed (uvicorn's own choice when it runs the loop)
        except ImportError:
            asyncio.run(run())
        else:
            uvloop.run(run())
    finally:
        ctx.close()
        sock.close()
