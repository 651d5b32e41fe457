"""Why a container stopped, in one sentence, from its exit code, signal and OOM verdict."""

from __future__ import annotations

SIGNALS = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
           8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
           14: "SIGALRM", 15: "SIGTERM"}

_SIGNAL_WHY = {
    "SIGKILL": "killed with SIGKILL (signal 9) from outside the container, not by its memory limit",
    "SIGSEGV": "crashed with a segmentation fault (SIGSEGV, signal 11): the program touched memory it does not own",
    "SIGABRT": "aborted (SIGABRT, signal 6), usually after a failed assertion or an unhandled error",
    "SIGTERM": "stopped by SIGTERM (signal 15), the signal a stop sends first",
    "SIGINT": "interrupted (SIGINT, signal 2)",
    "SIGBUS": "crashed with a bus error (SIGBUS, signal 7)",
    "SIGFPE": "crashed with an arithmetic error (SIGFPE, signal 8)",
    "SIGILL": "crashed on an illegal instruction (SIGILL, signal 4): often an image built for another CPU",
    "SIGPIPE": "killed by SIGPIPE (signal 13): it wrote to a pipe or socket nobody was reading",
    "SIGHUP": "stopped by SIGHUP (signal 1)",
}


def format_bytes(n: int) -> str:
    """512 MiB, 1.5 GiB, 16 MiB: memory limits as `docker run -m` users write them."""
    if n >= 1 << 30:
        v, unit = n / (1 << 30), "GiB"
    elif n >= 1 << 20:
        v, unit = n / (1 << 20), "MiB"
    elif n >= 1 << 10:
        v, unit = n / (1 << 10), "KiB"
    else:
        return f"{n} bytes"
    return f"{v:.0f} {unit}" if abs(v - round(v)) < 0.05 else f"{v:.1f} {unit}"


def signal_of(exit_code: int | None) -> str | None:
    """The signal behind a shell-style exit code (128 + n), e.g. 137 → SIGKILL."""
    if exit_code is None or not 128 < exit_code <= 128 + 64:
        return None
    n = exit_code - 128
    return SIGNALS.get(n, f"signal {n}")


def _quote(line: str, limit: int = 120) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def exit_cause(name: str, exit_code: int | None, *, oom_killed: bool = False, memory_limit: int = 0,
               last_line: str | None = None) -> str:
    """"web exited with code 137: killed by the kernel for using more than its 512 MiB memory limit"."""
    head = f"{name} exited with code {exit_code}" if exit_code is not None else f"{name} stopped"
    if oom_killed:
        if memory_limit:
            return f"{head}: killed by the kernel for using more than its {format_bytes(memory_limit)} memory limit"
        return f"{head}: killed by the kernel because the machine ran out of memory"
    sig = signal_of(exit_code)
    if sig is not None:
        return f"{head}: {_SIGNAL_WHY.get(sig, f'killed by {sig}')}"
    if exit_code == 125:
        return f"{head}: the engine could not run it"
    if exit_code == 126:
        return f"{head}: its command could not be run (not executable, or permission denied)"
    if exit_code == 127:
        return f"{head}: its command was not found in the image"
    why = f"{head}: the program reported an error"
    if last_line and last_line.strip():
        why += f"; its last output was “{_quote(last_line)}”"
    return why


def loop_note(exits: int, restart_policy: str) -> str:
    """What the restart count adds to the cause, for a container that keeps crashing."""
    if exits <= 1:
        return ""
    return (f" It has crashed {exits} times in a row; the engine restarts it ({restart_policy} policy)."
            if restart_policy not in ("", "no") else f" It has crashed {exits} times in a row.")
