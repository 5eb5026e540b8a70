"""tests/integration/pl.py — run parklogd on loopback for a Python test.

Every daemon gets a temporary data directory and free ports, and is killed
when the test ends (atexit), whatever happens.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

_daemons = []
_failed = []


def _excepthook(t, v, tb):
    _failed.append(t)
    sys.__excepthook__(t, v, tb)


sys.excepthook = _excepthook


def _cleanup():
    import sys
    if getattr(sys, "last_type", None) is not None or _failed:
        for d in _daemons:
            sys.stderr.write("--- parklogd messages (%s):\n%s\n" % (d.tmp, d.messages()[-6000:]))
    for d in _daemons:
        d.kill9()
        shutil.rmtree(d.tmp, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: exit(1))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    def __init__(self, binary, args=(), config=None):
        self.binary = binary
        self.args = list(args)
        self.tmp = tempfile.mkdtemp(prefix="parklog-it.")
        self.data = os.path.join(self.tmp, "data")
        self.log = os.path.join(self.tmp, "parklogd.log")
        self.config = None
        if config is not None:
            self.write_config(config)
        self.port = free_port()
        self.p2p = free_port()
        self.gates = free_port()
        self.proc = None
        self.conn = None
        _daemons.append(self)

    def write_config(self, config):
        self.config = os.path.join(self.tmp, "parklogd.json")
        with open(self.config, "w") as f:
            f.write(config if isinstance(config, str) else json.dumps(config))

    def start(self, timeout=10):
        cmd = [self.binary, "--data", self.data, "--http", "127.0.0.1:%d" % self.port,
               "--p2p", "127.0.0.1:%d" % self.p2p,
               "--gates", "127.0.0.1:%d" % self.gates] + self.args
        if self.config:
            cmd += ["-f", self.config]
        self.proc = subprocess.Popen(cmd, stderr=open(self.log, "ab"))
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError("parklogd exited %d:\n%s" % (self.proc.returncode, self.messages()))
            try:
                if self.req("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("parklogd did not answer /healthz:\n" + self.messages())

    def messages(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self._close()
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def req(self, method, path, body=None, headers=None, raw=False):
        """(status, parsed JSON or text, headers). One keep-alive connection."""
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self._close()
                if attempt == 1:
                    raise
        if r.getheader("Connection", "").lower() == "close":
            self._close()
        text = data.decode("utf-8", "replace")
        if raw or not r.getheader("Content-Type", "").startswith("application/json"):
            return r.status, text, r
        return r.status, json.loads(text), r

    def metric(self, name):
        """Sum of every sample of a metric in /metrics."""
        st, text, _ = self.req("GET", "/metrics", headers=self.op_headers())
        assert st == 200, text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    op_token = None

    def op_headers(self):
        return {"Authorization": "Bearer " + self.op_token} if self.op_token else {}


def check(cond, what, daemon=None):
    if not cond:
        msg = "FAIL: " + what
        if daemon is not None:
            msg += "\n--- parklogd messages:\n" + daemon.messages()[-4000:]
        raise AssertionError(msg)
