"""A real multi-node Docker Swarm on this machine, for tests and benchmarks.

Each node is a private dockerd in a network namespace of its own, with one veth leg on a test
bridge in the root namespace. The bridge carries no address, and the namespaces have no default
route, so swarm traffic (raft, gossip, VXLAN) only ever flows between these namespaces; the root
namespace talks to each dockerd through its UNIX socket on the host filesystem.

The dockerds run with `ip netns exec`, which gives each one a mount namespace of its own: its
overlay and netns mounts die with it. `DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1` makes task
preparation use the image loaded into the node instead of asking a registry, and each namespace
gets a resolv.conf pointing at loopback, so nothing ever tries to leave the machine.

This kernel has no IPVS, so the ingress routing mesh and VIP load balancing cannot carry
traffic; services here still publish ingress ports (the manager's port allocation is what the
tests look at) and tasks run, which is all the tests need.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import ipaddress
import os
import shutil
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker

from tests.harness.private_engine import TEST_IMAGE, EngineStartError, ensure_test_image

TEST_IMAGE_V2 = "pilothouse-test/busybox:v2"
# Only on the manager: a task of it placed on a worker finds no image there.
TEST_IMAGE_MANAGER_ONLY = "pilothouse-test/busybox:manager-only"

_HEARTBEAT_NS = 1_000_000_000  # 1 s dispatcher heartbeat: a dead node is seen as down in ~3 s


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)


def _must(argv: list[str]) -> str:
    res = _run(argv)
    if res.returncode != 0:
        raise EngineStartError(f"{' '.join(argv)}: {res.stderr.strip() or res.stdout.strip()}")
    return res.stdout


def _used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the root namespace routes or holds an address in."""
    nets: list[ipaddress.IPv4Network] = []
    for line in _run(["ip", "-4", "-o", "addr"]).stdout.splitlines():
        parts = line.split()
        if "inet" in parts:
            nets.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    for line in _run(["ip", "-4", "route", "show", "table", "all"]).stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("default", "broadcast", "local", "unreachable", "blackhole", "prohibit"):
            first = line.split()[1] if len(line.split()) > 1 else ""
        with contextlib.suppress(ValueError):
            nets.append(ipaddress.ip_network(first, strict=False))
    return nets


def free_subnet(seed: int) -> ipaddress.IPv4Network:
    """A /24 in 10.213.0.0/16 that nothing here routes or addresses (checked, not assumed)."""
    used = _used_networks()
    for k in range(254):
        net = ipaddress.ip_network(f"10.213.{(seed + k) % 254 + 1}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise EngineStartError("no unused /24 in 10.213.0.0/16 for the swarm test bridge")


def _cgroup_mount_commands() -> list[str]:
    """Shell lines that remount the host's cgroup hierarchy (v1 or v2) under a fresh /sys."""
    cmds: list[str] = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        src, target, fstype, opts = line.split()[:4]
        if not (target == "/sys/fs/cgroup" or target.startswith("/sys/fs/cgroup/")):
            continue
        if fstype not in ("tmpfs", "cgroup", "cgroup2"):
            continue
        wanted = [o for o in opts.split(",") if o not in ("rw", "ro", "relatime", "nosuid", "nodev", "noexec")]
        opt = f"-o {shlex.quote(','.join(wanted))} " if wanted else ""
        cmds.append(f"mkdir -p {shlex.quote(target)}")
        cmds.append(f"mount -t {fstype} {opt}{shlex.quote(src)} {shlex.quote(target)}")
    return cmds


class SwarmNode:
    """One dockerd in its own network namespace, reachable through a UNIX socket."""

    def __init__(self, cluster: "SwarmCluster", index: int, address: str) -> None:
        self.cluster = cluster
        self.index = index
        self.name = f"node{index}"
        self.hostname = f"ph-{cluster.tag}-n{index}"
        self.netns = f"phsw{cluster.tag}n{index}"
        self.veth = f"phsw{cluster.tag}v{index}"
        self.address = address
        self.root = cluster.root / self.name
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        self.socket = self.root / "docker.sock"
        self.log_path = self.root / "dockerd.log"
        self._proc: subprocess.Popen | None = None
        self.node_id: str | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def api(self, timeout: float = 30) -> docker.APIClient:
        return docker.APIClient(base_url=self.host, version="auto", timeout=timeout)

    # -- network ----------------------------------------------------------------------------
    def make_namespace(self) -> None:
        _must(["ip", "netns", "add", self.netns])
        etc = Path("/etc/netns") / self.netns
        etc.mkdir(parents=True, exist_ok=True)
        # `ip netns exec` bind-mounts these over /etc: the dockerd never sees the host's resolver.
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        _must(["ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns])
        _must(["ip", "link", "set", self.veth, "master", self.cluster.bridge, "up"])
        ns = ["ip", "-n", self.netns]
        _must([*ns, "addr", "add", f"{self.address}/{self.cluster.subnet.prefixlen}", "dev", "eth0"])
        _must([*ns, "link", "set", "eth0", "up"])
        _must([*ns, "link", "set", "lo", "up"])

    def remove_namespace(self) -> None:
        _run(["ip", "link", "del", self.veth])
        _run(["ip", "netns", "del", self.netns])
        shutil.rmtree(Path("/etc/netns") / self.netns, ignore_errors=True)

    # -- dockerd ----------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        # dockerd gives its containerd a fixed time to come up (about 15 s); a node restarted on
        # a loaded machine, its containerd cleaning up the tasks of the killed run, can miss it.
        # That is the daemon's own start-up, not the code under test: it is started again.
        for attempt in range(3):
            try:
                self._start_once(timeout)
                return
            except EngineStartError as e:
                if attempt == 2 or "timeout waiting for containerd to start" not in str(e):
                    raise
                self.kill()  # what the failed start left of its session (containerd, shims)

    def _start_once(self, timeout: float) -> None:
        if self.running:
            return
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        # `ip netns exec` remounts /sys for the namespace, which drops the cgroup mounts dockerd
        # needs; a start script (in the node's own folder) mounts them again, sets the node's
        # hostname in a UTS namespace of its own, then becomes dockerd.
        script = self.root / "start-dockerd.sh"
        lines = ["#!/bin/sh", "set -e", f"hostname {shlex.quote(self.hostname)}"]
        lines += _cgroup_mount_commands()
        lines.append("exec " + " ".join(shlex.quote(a) for a in [
            dockerd,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "--host", self.host,
            # Inside its own namespace the engine's iptables rules touch nothing of the host's,
            # and overlay networking wants its NAT/filter chains.
            "--iptables=true",
            "--ip6tables=false",
            "--storage-driver", "overlay2",
            "--log-level", "warn",
        ]))
        script.write_text("\n".join(lines) + "\n")
        os.chmod(script, 0o700)
        argv = ["unshare", "--uts", "--", "ip", "netns", "exec", self.netns, str(script)]
        env = {**os.environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        env.pop("DOCKER_HOST", None)
        log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EngineStartError(f"{self.name}: dockerd exited with {self._proc.returncode}: {self.log_tail()}")
            if self.socket.exists():
                with contextlib.suppress(Exception):
                    api = self.api(timeout=5)
                    try:
                        if api.ping():
                            return
                    finally:
                        api.close()
            time.sleep(0.1)  # polling a process we started; nothing to wait on instead
        raise EngineStartError(f"{self.name}: dockerd did not answer within {timeout}s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the dockerd and everything in its session (containerd, shims): a crashed node."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        self._kill_strays()

    def stop(self, timeout: float = 20.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            self._kill_strays()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        self._kill_strays()

    def _kill_strays(self) -> None:
        """containerd-shims re-parent away from the session; find them by their namespace."""
        res = _run(["ip", "netns", "pids", self.netns])
        for pid in res.stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


_LIVE: list["SwarmCluster"] = []


def _on_sigterm(signum, frame) -> None:  # pragma: no cover - only when a run is killed
    """A killed run (CI's timeout, Ctrl+C's big brother) still tears its swarms down."""
    for cluster in list(_LIVE):
        cluster.destroy()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_sigterm_handler() -> None:
    import threading

    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)


def reap_stale() -> None:
    """Tear down swarms left by a run that was SIGKILLed (its owner.pid names a dead process)."""
    for root in Path(tempfile.gettempdir()).glob("phsw-*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if owner == os.getpid() or Path(f"/proc/{owner}").exists():
            continue
        tag = hashlib.sha1(str(root).encode()).hexdigest()[:5]
        for ns in _run(["ip", "netns", "list"]).stdout.split():
            if ns.startswith(f"phsw{tag}n"):
                for pid in _run(["ip", "netns", "pids", ns]).stdout.split():
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                _run(["ip", "netns", "del", ns])
                shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
        _run(["ip", "link", "del", f"phsw{tag}br"])
        with contextlib.suppress(OSError):
            for line in reversed(Path("/proc/mounts").read_text().splitlines()):
                if line.split()[1].startswith(str(root)):
                    _run(["umount", "-l", line.split()[1]])
        shutil.rmtree(root, ignore_errors=True)


class SwarmCluster:
    """Three (or more) nodes on one test bridge, formed into a swarm; destroy() undoes it all."""

    def __init__(self, nodes: int = 3, managers: int = 1, root: Path | None = None, spares: int = 0) -> None:
        reap_stale()
        self.root = Path(root or tempfile.mkdtemp(prefix="phsw-"))
        os.chmod(self.root, 0o711)
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.tag = hashlib.sha1(str(self.root).encode()).hexdigest()[:5]
        self.bridge = f"phsw{self.tag}br"
        self.subnet = free_subnet(int(self.tag, 16))
        hosts = list(self.subnet.hosts())
        # .1 stays unassigned: the bridge in the root namespace has no address at all.
        self.nodes = [SwarmNode(self, i, str(hosts[i + 1])) for i in range(nodes)]
        # Spare nodes run a dockerd on the same bridge but stay out of the swarm (init/join tests).
        self.spares = [SwarmNode(self, nodes + i, str(hosts[nodes + i + 1])) for i in range(spares)]
        self.manager_count = managers
        self._destroyed = False
        atexit.register(self.destroy)
        _LIVE.append(self)
        _install_sigterm_handler()

    @property
    def manager(self) -> SwarmNode:
        return self.nodes[0]

    @property
    def workers(self) -> list[SwarmNode]:
        return self.nodes[self.manager_count:]

    def start(self, image_source_host: str | None = None) -> None:
        try:
            # nf_call_iptables off: bridged swarm traffic never meets the host's FORWARD rules.
            _must(["ip", "link", "add", self.bridge, "type", "bridge", "nf_call_iptables", "0"])
            _must(["ip", "link", "set", self.bridge, "up"])
            for node in self.nodes + self.spares:
                node.make_namespace()
            for node in self.nodes + self.spares:
                node.start()
            self._load_images(image_source_host)
            self._form()
        except BaseException:
            self.destroy()
            raise

    def _load_images(self, source_host: str | None) -> None:
        """`docker save` from the harness engine, `docker load` into every node; extra tags made here."""
        if source_host is None:
            src_api = self.manager.api(timeout=120)
            ensure_test_image(self.manager.host)
        else:
            ensure_test_image(source_host)
            src_api = docker.APIClient(base_url=source_host, version="auto", timeout=120)
        try:
            tarball = b"".join(src_api.get_image(TEST_IMAGE))
        finally:
            src_api.close()
        for node in self.nodes + self.spares:
            api = node.api(timeout=120)
            try:
                for _ in api.load_image(io.BytesIO(tarball)):
                    pass
                # A distinct image (own ID) for rolling updates, like a new build of the same app.
                cid = api.create_container(TEST_IMAGE, command=["true"])["Id"]
                try:
                    api.commit(cid, repository="pilothouse-test/busybox", tag="v2",
                               changes=['LABEL pilothouse.test.version="2"', 'CMD ["/bin/sh"]'])
                    if node is self.manager:
                        api.commit(cid, repository="pilothouse-test/busybox", tag="manager-only",
                                   changes=['LABEL pilothouse.test.version="manager-only"', 'CMD ["/bin/sh"]'])
                finally:
                    api.remove_container(cid, force=True)
            finally:
                api.close()

    def _form(self) -> None:
        m = self.manager.api()
        try:
            # Short raft ticks: a swarm that lost quorum says so within seconds, not the default ~10 s.
            spec = m.create_swarm_spec(dispatcher_heartbeat_period=_HEARTBEAT_NS, task_history_retention_limit=5,
                                       election_tick=3, heartbeat_tick=1)
            m.init_swarm(advertise_addr=self.manager.address, listen_addr=f"{self.manager.address}:2377",
                         swarm_spec=spec, default_addr_pool=["10.214.0.0/16"], subnet_size=24)
            tokens = m.inspect_swarm()["JoinTokens"]
            self.manager.node_id = m.info()["Swarm"]["NodeID"]
        finally:
            m.close()
        for node in self.nodes[1:]:
            token = tokens["Manager"] if node.index < self.manager_count else tokens["Worker"]
            self.join(node, token)

    def join(self, node: SwarmNode, token: str) -> None:
        api = node.api(timeout=60)
        try:
            api.join_swarm([f"{self.manager.address}:2377"], token, advertise_addr=node.address,
                           listen_addr=f"{node.address}:2377")
            node.node_id = api.info()["Swarm"]["NodeID"]
        finally:
            api.close()
        self.wait_node_ready(node)

    def wait_node_ready(self, node: SwarmNode, timeout: float = 60) -> None:
        """Until the manager sees the node ready (its state after a join or a restart)."""
        self.wait_node_state(node, "ready", timeout)

    def wait_node_state(self, node: SwarmNode, state: str, timeout: float = 60) -> None:
        api = self.manager.api()
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with contextlib.suppress(docker.errors.APIError):
                    if api.inspect_node(node.node_id)["Status"]["State"] == state:
                        return
                time.sleep(0.2)  # the harness's own set-up; the code under test never polls
        finally:
            api.close()
        raise EngineStartError(f"{node.name} did not become {state} within {timeout}s")

    def rejoin(self, node: SwarmNode) -> None:
        """Bring back a node that was removed from the swarm: start it, leave, join as a new worker."""
        if not node.running:
            node.start()
        api = node.api()
        try:
            with contextlib.suppress(docker.errors.APIError):
                api.leave_swarm(force=True)
        finally:
            api.close()
        m = self.manager.api()
        try:
            token = m.inspect_swarm()["JoinTokens"]["Worker"]
        finally:
            m.close()
        self.join(node, token)

    def restart_node(self, node: SwarmNode) -> None:
        node.start()
        self.wait_node_ready(node)

    def destroy(self) -> None:
        if self._destroyed:
            return
        self._destroyed = True
        if self in _LIVE:
            _LIVE.remove(self)
        for node in self.nodes + self.spares:
            with contextlib.suppress(Exception):
                node.kill()  # everything is thrown away: no need to let containers stop
        for node in self.nodes + self.spares:
            node.remove_namespace()
        _run(["ip", "link", "del", self.bridge])
        # Mounts made in a dockerd's own mount namespace die with it; any made in ours are undone here.
        with contextlib.suppress(OSError):
            for line in reversed(Path("/proc/mounts").read_text().splitlines()):
                target = line.split()[1]
                if target.startswith(str(self.root)):
                    _run(["umount", "-l", target])
        shutil.rmtree(self.root, ignore_errors=True)


def swarm_supported() -> str | None:
    """Why a swarm cannot be built here (None when it can)."""
    if os.geteuid() != 0:
        return "the swarm harness needs root (network namespaces)"
    if not (shutil.which("dockerd") or os.path.exists("/usr/sbin/dockerd")):
        return "dockerd not installed"
    if not shutil.which("ip"):
        return "iproute2 not installed"
    return None


@contextlib.contextmanager
def running_swarm(nodes: int = 3, managers: int = 1, image_source_host: str | None = None,
                  spares: int = 0) -> Iterator[SwarmCluster]:
    cluster = SwarmCluster(nodes, managers, spares=spares)
    cluster.start(image_source_host)
    try:
        yield cluster
    finally:
        cluster.destroy()


def main() -> None:  # pragma: no cover - manual use: python -m tests.harness.swarm
    with running_swarm() as cluster:
        for node in cluster.nodes:
            print(node.name, node.address, node.host, flush=True)
        api = cluster.manager.api()
        for n in api.nodes():
            print(n["Description"]["Hostname"], n["Spec"]["Role"], n["Status"]["State"], n["Status"].get("Addr"))
        api.close()
        if os.environ.get("PH_SWARM_HOLD"):
            input("enter to tear down")


if __name__ == "__main__":
    main()
