"""Raw wire-protocol checks of writ-pg-proxy that no ordinary client sends: pipelined batches
with a refusal in the middle, a refusal after other messages of the same batch, and a Bind of a
statement the proxy never saw. Used by run-test:

    python3 wire_check.py PORT USER DATABASE

Prints every comparison; exits 1 on the first mismatch.
"""

import socket
import struct
import sys


def msg(tag, body=b""):
    return tag + struct.pack("!i", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def parse(name, sql):
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack("!h", 0))


def bind(portal, stmt, params=(), result_format=0):
    body = cstr(portal) + cstr(stmt) + struct.pack("!h", 0) + struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", len(p)) + p
    body += struct.pack("!hh", 1, result_format)
    return msg(b"B", body)


def describe_portal(portal):
    return msg(b"D", b"P" + cstr(portal))


def execute(portal):
    return msg(b"E", cstr(portal) + struct.pack("!i", 0))


SYNC = msg(b"S")


class Conn:
    def __init__(self, port, user, database):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        params = cstr("user") + cstr(user) + cstr("database") + cstr(database) + b"\0"
        body = struct.pack("!i", 3 << 16) + params
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self.buf = b""
        while self.read()[0] != "Z":
            pass

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("proxy closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self):
        tag = self.recv_exact(1).decode()
        (length,) = struct.unpack("!i", self.recv_exact(4))
        return tag, self.recv_exact(length - 4)

    def until_ready(self):
        """Messages up to and including ReadyForQuery, summarized."""
        out = []
        while True:
            tag, body = self.read()
            out.append(summary(tag, body))
            if tag == "Z":
                return out


def summary(tag, body):
    if tag == "E":
        fields = dict((f[:1].decode(), f[1:].decode()) for f in body.split(b"\0") if f)
        return "E:" + fields.get("C", "") + ":" + fields.get("M", "")
    if tag == "D":
        (n,) = struct.unpack("!h", body[:2])
        vals, pos = [], 2
        for _ in range(n):
            (ln,) = struct.unpack("!i", body[pos : pos + 4])
            pos += 4
            vals.append(None if ln < 0 else body[pos : pos + ln].decode())
            pos += max(ln, 0)
        assert pos == len(body), "DataRow length mismatch"
        return "D:" + "|".join("NULL" if v is None else v for v in vals)
    if tag == "Z":
        return "Z:" + body.decode()
    if tag == "C":
        return "C:" + body.rstrip(b"\0").decode()
    return tag


failures = 0


def same(what, got, want):
    global failures
    ok = got == want
    print(f"  {'ok  ' if ok else 'FAIL'} {what}\n       got:  {got}" + ("" if ok else f"\n       want: {want}"))
    if not ok:
        failures += 1


def main():
    port, user, database = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    select = "SELECT email FROM customers WHERE id = $1"
    denied_text = ("writ: denied: deleting rows and dropping objects is denied through the proxy"
                   " [no-deletes-or-drops]")

    # Three batches sent at once; the middle one is refused: its answer must come between the
    # server's answers to the first and the third.
    c = Conn(port, user, database)
    c.sock.sendall(
        parse("", select) + bind("", "", [b"1"]) + describe_portal("") + execute("") + SYNC
        + parse("", "DELETE FROM customers WHERE id = $1") + bind("", "", [b"1"]) + execute("") + SYNC
        + parse("", select) + bind("", "", [b"2"]) + describe_portal("") + execute("") + SYNC
    )
    same("batch 1", c.until_ready(), ["1", "2", "T", "D:***@example.com", "C:SELECT 1", "Z:I"])
    same("batch 2 (refused)", c.until_ready(), ["E:42501:" + denied_text, "Z:I"])
    same("batch 3", c.until_ready(), ["1", "2", "T", "D:***@example.org", "C:SELECT 1", "Z:I"])

    # A refusal after other messages of the same batch went to the server: their answers
    # first, then the error, then one ReadyForQuery.
    c.sock.sendall(
        parse("s1", select) + bind("", "s1", [b"1"]) + describe_portal("") + execute("")
        + parse("", "DROP TABLE customers") + bind("", "", []) + execute("") + SYNC
    )
    same("refusal mid-batch", c.until_ready(),
         ["1", "2", "T", "D:***@example.com", "C:SELECT 1", "E:42501:" + denied_text, "Z:I"])

    # The named statement stays usable; a statement the proxy never saw cannot be bound.
    c.sock.sendall(bind("", "s1", [b"2"]) + describe_portal("") + execute("") + SYNC)
    same("named statement again", c.until_ready(), ["2", "T", "D:***@example.org", "C:SELECT 1", "Z:I"])
    c.sock.sendall(bind("", "never_parsed", []) + execute("") + SYNC)
    same("bind of an unknown statement", c.until_ready(),
         ["E:42501:writ: prepared statement \"never_parsed\" was not prepared through writ-pg-proxy",
          "Z:I"])

    # Binary results: text columns are masked (same bytes as text).
    c.sock.sendall(parse("", select) + bind("", "", [b"1"], result_format=1) + describe_portal("") + execute("") + SYNC)
    same("binary text result", c.until_ready(), ["1", "2", "T", "D:***@example.com", "C:SELECT 1", "Z:I"])

    # A simple query refused while a pipelined batch is still being answered.
    c.sock.sendall(parse("", select) + bind("", "", [b"1"]) + execute("") + SYNC
                   + msg(b"Q", cstr("DELETE FROM customers WHERE id = 2")))
    same("batch before a refused query", c.until_ready(), ["1", "2", "D:***@example.com", "C:SELECT 1", "Z:I"])
    same("refused query after it", c.until_ready(), ["E:42501:" + denied_text, "Z:I"])
    c.sock.sendall(msg(b"X"))
    c.sock.close()
    if failures:
        print(f"wire checks: {failures} FAILED")
        sys.exit(1)
    print("wire checks: all passed")


if __name__ == "__main__":
    main()
