"""One stats document per call (`stats?stream=false&one-shot=true`): what a low-rate sampler
asks for. There is no two-reading wait, so CPU % is the caller's to work out from two calls'
counters; but dockerd 20.10 answers at its stats collector's next pass (up to a second), so a
sampler asks for all its containers at once (one pass serves them all) on threads of its own,
never on the client's executor that user actions share."""

from __future__ import annotations

import json

from desktop.engine.errors import translate
from desktop.engine.raw_http import ChunkedLines, open_stream


def _read_unix(socket_path: str, api_version: str, cid: str) -> dict | None:
    sock = open_stream(socket_path, api_version, f"/containers/{cid}/stats?stream=false&one-shot=true")
    try:
        parser = ChunkedLines()
        lines: list[bytes] = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            lines += parser.feed(data)
            if parser.finished:
                break
        if parser.status != 200:
            return None  # gone or stopped since the list: nothing to sample
        return json.loads(lines[0]) if lines else None
    finally:
        sock.close()


async def one_shot_stats(client, cid: str, executor=None) -> dict | None:
    """The container's stats document now, or None when it is not there (any more).

    Args:
        executor: where the blocking call waits (the client's own executor if None).
    """
    import asyncio
    import functools

    endpoint = client.api_endpoint
    api = client.api
    loop = asyncio.get_running_loop()
    try:
        if endpoint is not None and endpoint.host.startswith("unix://"):
            call = functools.partial(_read_unix, endpoint.host[len("unix://"):], api.api_version, cid)
        else:
            call = functools.partial(api.stats, cid, decode=False, stream=False, one_shot=True)
        return await loop.run_in_executor(executor or client.executor, call)
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, "read the stats of", f"container {cid[:12]}")
        if "No such container" in str(exc) or "not found" in str(err).lower():
            return None
        raise err from exc
