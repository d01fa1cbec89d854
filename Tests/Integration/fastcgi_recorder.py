"""A FastCGI responder that records what nginx sends it: the parameters in order (repeats kept),
the FCGI_KEEP_CONN flag and the body. The tests use it in a pool's place to check the parameters
the nginx template passes, which the Swift workers rely on but cannot show from outside.

    python3 fastcgi_recorder.py SOCKET_PATH RECORD_FILE

Each request appends one JSON line to RECORD_FILE and is answered 200 with a small JSON body.
"""

import json
import os
import socket
import struct
import sys

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6
FCGI_KEEP_CONN = 1
HEADER = struct.Struct("!BBHHBx")


def read_exactly(connection, count):
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_record(connection):
    version, kind, request_id, length, padding = HEADER.unpack(read_exactly(connection, HEADER.size))
    content = read_exactly(connection, length)
    read_exactly(connection, padding)
    return kind, request_id, content


def name_value_pairs(data):
    pairs, index = [], 0

    def length():
        nonlocal index
        if data[index] >> 7:
            value = struct.unpack("!I", data[index:index + 4])[0] & 0x7FFFFFFF
            index += 4
        else:
            value = data[index]
            index += 1
        return value

    while index < len(data):
        name_length, value_length = length(), length()
        name = data[index:index + name_length].decode("latin-1")
        index += name_length
        value = data[index:index + value_length].decode("latin-1")
        index += value_length
        pairs.append([name, value])
    return pairs


def record(kind, request_id, content):
    padding = -len(content) % 8
    return HEADER.pack(1, kind, request_id, len(content), padding) + content + b"\0" * padding


def serve(connection, log):
    params, body, keep_conn, request_id = b"", b"", False, 0
    while True:
        kind, request_id, content = read_record(connection)
        if kind == FCGI_BEGIN_REQUEST:
            keep_conn = bool(content[2] & FCGI_KEEP_CONN)
        elif kind == FCGI_PARAMS:
            params += content
        elif kind == FCGI_STDIN:
            if not content:
                break
            body += content
    entry = {"params": name_value_pairs(params), "keep_conn": keep_conn, "body_length": len(body)}
    log.write(json.dumps(entry) + "\n")
    log.flush()
    answer = b'Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{"recorded":true}'
    connection.sendall(record(FCGI_STDOUT, request_id, answer) + record(FCGI_STDOUT, request_id, b"")
                       + record(FCGI_END_REQUEST, request_id, struct.pack("!IB3x", 0, 0)))


def main(socket_path, record_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o666)
    listener.listen(16)
    with open(record_path, "a") as log:
        while True:
            connection, _ = listener.accept()
            with connection:
                try:
                    serve(connection, log)
                except (EOFError, OSError):
                    pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
