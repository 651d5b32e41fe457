"""Short QMP conversations with QEMU (qemu.qmp), including human-monitor commands."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from qemu.qmp import QMPClient

from desktop.vm.unix_socket import monitor_address

# qemu.qmp logs every connection failure at ERROR; our callers report failures themselves.
logging.getLogger("qemu.qmp").setLevel(logging.CRITICAL)


class QMPError(RuntimeError):
    """QEMU's monitor could not be reached or refused the command."""


async def qmp_command(address: "Path | str", command: str, arguments: dict | None = None,
                      timeout: float = 10.0):
    """Connect to the monitor's unix socket, run one QMP command, disconnect."""
    client = QMPClient("pilothouse")
    try:
        await asyncio.wait_for(client.connect(monitor_address(address)), timeout)
        return await asyncio.wait_for(client.execute(command, arguments), timeout)
    except (OSError, asyncio.TimeoutError, Exception) as e:  # noqa: BLE001 - qemu.qmp raises several types
        raise QMPError(f"{command}: {e}") from e
    finally:
        try:
            await client.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass


async def hmp(client: QMPClient, line: str) -> str:
    """Run a human-monitor command (e.g. hostfwd_add) over an open QMP connection."""
    out = await client.execute("human-monitor-command", {"command-line": line})
    return str(out or "")
