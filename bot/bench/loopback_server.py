"""An aiohttp application served on 127.0.0.1 from a thread of its own: the base of the fakes
that stand in for services out of reach (Telegram, translation)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Self

from aiohttp import web


class LoopbackServer:
    """Subclasses say what to serve (`make_app`) and may prepare and wind down in the loop."""

    thread_name = "loopback-server"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    def make_app(self) -> web.Application:
        raise NotImplementedError

    def on_loop_start(self) -> None:
        """Runs in the server's loop before it serves (make asyncio objects here)."""

    async def on_stop(self) -> None:
        """Runs in the server's loop before it closes (release waiting requests here)."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(sock, started), name=self.thread_name, daemon=True
        )
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(15)
        thread.join(15)
        self._loop = None
        self._thread = None

    def _serve(self, sock: socket.socket, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._runner = web.AppRunner(self.make_app(), shutdown_timeout=1, handle_signals=False)
        self.on_loop_start()

        async def begin() -> None:
            assert self._runner is not None
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()

        loop.run_until_complete(begin())
        started.set()
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        assert self._runner is not None
        await self.on_stop()
        await self._runner.cleanup()
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)
