"""`pilothouse events`: the recorded timeline in the docker CLI's `docker events` format.

Unlike `docker events --since`, it still shows what happened before the daemon restarted, and
days ago: it reads Pilothouse's history file, not the daemon's short in-memory buffer.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time

from desktop.state.history.docker_format import TimeInputError, format_json, format_line, parse_time, rfc3339_nano_fixed
from desktop.state.history.schema import connect
from desktop.state.history.store import default_path
from desktop.state.history.timeline import TimelineFilter, engines, gaps, query_events


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pilothouse events",
                                description="Print the events Pilothouse recorded, as `docker events` does.")
    p.add_argument("--host", help="only this engine's events (its endpoint, e.g. unix:///var/run/docker.sock)")
    p.add_argument("--since", help="from this time: a duration back from now (2h, 30m), a date/time or a Unix time")
    p.add_argument("--until", help="up to this time (same forms as --since)")
    p.add_argument("--container", help="only events of this container (name or ID)")
    p.add_argument("--json", action="store_true", help="one JSON document per event, as `docker events --format '{{json .}}'`")
    p.add_argument("--db", help=argparse.SUPPRESS)  # another history file (tests, copies moved aside)
    return p


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    now = time.time()
    try:
        since = parse_time(args.since, now) if args.since else None
        until = parse_time(args.until, now) if args.until else None
    except TimeInputError as exc:
        print(f"pilothouse events: {exc}", file=err)
        return 2
    if since is not None and until is not None and until < since:
        print("pilothouse events: --until is before --since.", file=err)
        return 2
    path = args.db or default_path()
    try:
        conn = connect(path, readonly=True)
        known = engines(conn)
    except sqlite3.Error as exc:
        if "unable to open" in str(exc):
            print(f"pilothouse events: no history has been recorded yet ({path} does not exist). "
                  "Pilothouse records events while it runs.", file=err)
        else:
            print(f"pilothouse events: the history file {path} cannot be read: {exc}", file=err)
        return 1
    try:
        if args.host and args.host not in {h for _k, h in known}:
            hosts = ", ".join(h for _k, h in known if h) or "none yet"
            print(f"pilothouse events: no history for the engine at {args.host} (recorded engines: {hosts}).",
                  file=err)
            return 1
        f = TimelineFilter(host=args.host, container=args.container, since=since, until=until,
                           limit=0, newest_first=False)
        for ev in query_events(conn, f):
            out.write((format_json(ev) if args.json else format_line(ev)) + "\n")
        if not args.json:
            for g in gaps(conn, since, until, host=args.host):
                filled = f"; {g.filled} events read back from the engine's buffer" if g.filled else ""
                print(f"pilothouse events: not watching {g.engine} from {rfc3339_nano_fixed(g.start)} "
                      f"to {rfc3339_nano_fixed(g.end)}{filled}", file=err)
    except sqlite3.Error as exc:
        print(f"pilothouse events: the history file {path} cannot be read: {exc}", file=err)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        conn.close()
    return 0
