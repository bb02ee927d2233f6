"""paramiko's SFTPClient against a local SFTP server program over its stdin/stdout (no SSH).

usage: paramiko_client.py <server command...>
Prints OK on success; any failure raises and exits non-zero.
"""
import hashlib
import io
import os
import subprocess
import sys

import paramiko


class PipeSocket:
    """The send/recv surface paramiko's SFTPClient needs, over a child process's pipes."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()
        return len(data)

    def recv(self, n):
        return os.read(self.proc.stdout.fileno(), n)

    def get_name(self):
        return "stdio"

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def main():
    sock = PipeSocket(sys.argv[1:])
    sftp = paramiko.SFTPClient(sock)
    data = os.urandom(3 * 1024 * 1024 + 7)
    sftp.putfo(io.BytesIO(data), "/up.bin")
    back = io.BytesIO()
    sftp.getfo("/up.bin", back)
    assert hashlib.sha256(back.getvalue()).digest() == hashlib.sha256(data).digest(), "download differs"
    assert sftp.stat("/up.bin").st_size == len(data)
    sftp.mkdir("/dir")
    sftp.rename("/up.bin", "/dir/moved.bin")
    names = [a.filename for a in sftp.listdir_attr("/dir")]
    assert names == ["moved.bin"], names
    with sftp.open("/other", "wb") as f:
        f.write(b"x")
    sftp.posix_rename("/other", "/dir/moved.bin")
    assert sftp.stat("/dir/moved.bin").st_size == 1
    assert sftp.normalize(".") == "/"
    sftp.remove("/dir/moved.bin")
    sftp.rmdir("/dir")
    assert sftp.listdir("/") == []
    try:
        sftp.stat("/missing")
        raise AssertionError("stat of a missing file succeeded")
    except FileNotFoundError:
        pass
    sftp.close()
    print("OK")


if __name__ == "__main__":
    main()
