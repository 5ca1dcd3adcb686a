#!/usr/bin/env python3
"""Raw-socket HTTP clients that curl cannot play (stdlib only).

  rawclient.py pipeline HOST PORT   three GET requests written back to back in one send, then
                                    read until the three responses arrived (HTTP/1.1 pipelining)
  rawclient.py websocket HOST PORT  an Upgrade: websocket request (101), one masked text frame
"""
import os
import socket
import sys
import time


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    return s


def host_header(host, port):
    h = f"[{host}]" if ":" in host else host
    return h if port == 80 else f"{h}:{port}"


def pipeline(host, port):
    hh = host_header(host, port)
    reqs = [
        f"GET /api/users/1 HTTP/1.1\r\nHost: {hh}\r\nUser-Agent: pipeline-client/1.0\r\n\r\n",
        f"GET /api/users/2 HTTP/1.1\r\nHost: {hh}\r\nUser-Agent: pipeline-client/1.0\r\n\r\n",
        f"GET /static/app.js HTTP/1.1\r\nHost: {hh}\r\nUser-Agent: pipeline-client/1.0\r\n"
        "Connection: close\r\n\r\n",
    ]
    s = connect(host, port)
    s.sendall("".join(reqs).encode())  # one write: the three requests share segments
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    n = data.count(b"HTTP/1.1 ")
    print(f"pipeline: {n} responses, {len(data)} bytes")
    return 0 if n >= 3 else 1


def websocket(host, port):
    hh = host_header(host, port)
    req = (
        f"GET /ws HTTP/1.1\r\nHost: {hh}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Origin: http://shop.test\r\n\r\n"
    )
    s = connect(host, port)
    s.sendall(req.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    time.sleep(0.1)
    msg = b'{"op":"subscribe","topic":"orders"}'
    mask = os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        pass
    s.close()
    ok = data.startswith(b"HTTP/1.1 101")
    status = data.split(b"\r\n")[0].decode(errors="replace")
    print(f"websocket: {status}")
    return 0 if ok else 1


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.exit({"pipeline": pipeline, "websocket": websocket}[mode](host, port))
