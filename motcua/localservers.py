"""Throwaway local PostgreSQL, Redis and nginx servers for the test suite and the benchmarks.

Uses Debian's binaries; when they are missing and we run as root with apt-get (as in CI), installs
the package first. A server listens on 127.0.0.1 on a free port, with its data in a temporary
folder that is removed on stop.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be installed or started here."""


def apt_install(*packages: str) -> None:
    """Install Debian packages (root with apt-get only); raises RuntimeError when that is not possible."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{' '.join(packages)} not installed and cannot be installed here (needs root and apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr[-500:]}")


def _bin_dir() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def ensure_installed() -> Path:
    """The folder of PostgreSQL's server binaries, installing Debian's package when possible."""
    bin_dir = _bin_dir()
    if bin_dir:
        return bin_dir
    try:
        apt_install("postgresql")
    except RuntimeError as exc:
        raise PostgresUnavailable(str(exc)) from None
    bin_dir = _bin_dir()
    if not bin_dir:
        raise PostgresUnavailable("postgresql installed but initdb not found")
    return bin_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """Start with :meth:`start`, read :attr:`url`, stop with :meth:`stop`."""

    def __init__(self):
        self.dir: Optional[Path] = None
        self.port = 0
        self.bin_dir: Optional[Path] = None
        self.url = ""

    def _run(self, args: List[str], timeout: int = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0])] + args[1:]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def start(self) -> LocalPostgres:
        """Install if needed, initialise a cluster in a temporary folder and start it."""
        self.bin_dir = ensure_installed()
        self.dir = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        result = self._run(["initdb", "-D", str(data), "-U", "motcua", "--auth=trust", "-E", "UTF8", "--no-sync",
                            "--locale=C.UTF-8"])
        if result.returncode != 0:
            self.stop()
            raise PostgresUnavailable(f"initdb failed: {result.stderr[-500:]}")
        self.port = _free_port()
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        result = self._run(["pg_ctl", "-D", str(data), "-o", options, "-l", str(self.dir / "server.log"), "-w",
                            "-t", "60", "start"])
        if result.returncode != 0:
            log = (
                (self.dir / "server.log").read_text(errors="replace")[-500:]
                if (self.dir / "server.log").exists()
                else ""
            )
            self.stop()
            raise PostgresUnavailable(f"pg_ctl start failed: {result.stderr[-300:]} {log}")
        self.url = f"postgresql://motcua@127.0.0.1:{self.port}/postgres"
        return self

    def restart(self) -> None:
        """Stop the server (fast: clients are disconnected, committed data is kept) and start it again."""
        assert self.dir is not None, "not started"
        result = self._run(["pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-l", str(self.dir / "server.log"),
                            "-w", "-t", "60", "restart"])
        if result.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl restart failed: {result.stderr[-300:]}")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.dir is None:
            return
        if (self.dir / "data/postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


class LocalRedis:
    """A Redis server on a free loopback port, no persistence: ``start()``, ``url``, ``stop()``."""

    def __init__(self):
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.url = ""

    def start(self) -> LocalRedis:
        """Install redis-server if needed (root with apt-get), start it and wait until it answers."""
        import time

        if not shutil.which("redis-server"):
            apt_install("redis-server")
        self.port = _free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        self.url = f"redis://127.0.0.1:{self.port}/1"
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def chromium() -> tuple:
    """(browser, driver) paths of Debian's chromium and chromedriver, installing them when possible."""
    def found():
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        driver = shutil.which("chromedriver")
        return (browser, driver) if browser and driver else None

    if not found():
        apt_install("chromium", "chromium-driver", "fonts-dejavu-core")
    paths = found()
    if not paths:
        raise RuntimeError("chromium installed but chromium / chromedriver not found on PATH")
    return paths


class LocalNginx:
    """Debian's nginx in the foreground with ``conf`` (a whole nginx.conf), its logs and temporary files in a
    temporary folder: ``start()`` (checks the configuration first), ``stop()``."""

    def __init__(self, conf: str, ports: List[int]):
        self.conf = conf
        self.ports = ports  # what it listens on (start() waits for them)
        self.dir: Optional[Path] = None
        self.proc: Optional[subprocess.Popen] = None

    @staticmethod
    def binary() -> str:
        """nginx's path, installing Debian's package when possible."""
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not found:
            apt_install("nginx")
            found = shutil.which("nginx") or "/usr/sbin/nginx"
        return found

    def start(self) -> LocalNginx:
        import time

        binary = self.binary()
        self.dir = Path(tempfile.mkdtemp(prefix="motcua-nginx-"))
        os.chmod(self.dir, 0o755)
        conf = self.dir / "nginx.conf"
        # its own files: no access log, temporary files and the pid here, not in /var
        conf.write_text(self.conf.replace("http {", f"http {{\n    access_log off;\n"
                                                     f"    client_body_temp_path {self.dir}/body;\n"
                                                     f"    proxy_temp_path {self.dir}/proxy;\n", 1))
        args = [binary, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log"),
                "-g", f"daemon off; pid {self.dir}/nginx.pid;"]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx configuration refused: {check.stderr[-800:]}")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if all(_listening(port) for port in self.ports):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("nginx did not start")

    def error_log(self) -> str:
        """The end of nginx's error log."""
        path = self.dir / "error.log" if self.dir else None
        return path.read_text(errors="replace")[-3000:] if path and path.exists() else ""

    def stop(self) -> None:
        """Stop nginx and remove its folder."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
