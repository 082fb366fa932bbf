#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers (tests/fuzz/corpus/*). Rerun after changing the
protocol; regression cases found by fuzzing are added by hand as corpus/<target>/regression-*."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    path = os.path.join(here, "corpus", target, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


envelopes = {
    "hello": '{"type":"hello","id":1,"data":{"text":"亲爱的服务器！我连上你啦！"}}',
    "echo": '{"type":"echo","id":18446744073709551615,"data":{"text":"x \\" \\u00e9 😀"}}',
    "subscribe": '{"type":"subscribe","id":2,"data":{"topic":"news"}}',
    "unsubscribe": '{"type":"unsubscribe","id":3,"data":{"topic":"news"}}',
    "publish": '{"type":"publish","id":4,"data":{"topic":"news","text":"hi"}}',
    "job_start": '{"type":"job_start","id":5,"data":{"kind":"sample","steps":3,"step_ms":0,"label":"l"}}',
    "job_cancel": '{"type":"job_cancel","id":6,"data":{"job":"0123456789abcdef0123456789abcdef"}}',
    "job_resume": '{"type":"job_resume","id":7,"data":{"job":"0123","after_seq":2}}',
    "bad_id": '{"type":"echo","id":-1,"data":{"text":"x"}}',
    "bad_data": '{"type":"echo","id":1,"data":{"text":5}}',
    "not_object": "[1,2,{\"a\":null}]",
    "missing_type": '{"id":9}',
    "nested": '{"type":"echo","data":{"text":"x","extra":[[[[{"a":[1e308,-0.0]}]]]]}}',
}
for name, text in envelopes.items():
    write("envelope", name + ".json", text)


def frame(opcode, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    payload = payload.encode() if isinstance(payload, str) else payload
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def upgrade(path="/", protocol=None):
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:1337\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n") % path
    if protocol:
        req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
    return (req + "\r\n").encode()


close = frame(8, struct.pack("!H", 1000) + b"bye")
write("session", "http-get", b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
write("session", "http-escape", b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
write("session", "http-post", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
write("session", "plain-demo", upgrade() + frame(1, "亲爱的服务器！我连上你啦！") + close)
write("session", "plain-binary", upgrade() + frame(2, b"\x00\x01"))
write("session", "json-all",
      upgrade("/ws", "coropush.v1") + b"".join(frame(1, t) for t in envelopes.values()) + close)
write("session", "json-fragmented",
      upgrade("/", "coropush.v1") + frame(1, '{"type":"echo",', fin=False) + frame(9, "ping")
      + frame(0, '"id":1,"data":{"text":"x"}}') + close)
# An unknown type whose 64th byte is inside a character: the error quoting it must stay UTF-8.
# No close frame after it: Beast answers a close at once, and the error would never be sent.
write("session", "json-unknown-type-utf8",
      upgrade("/ws", "coropush.v1") + frame(1, '{"type":"' + "a" * 63 + 'é","id":7}'))
write("session", "echo-binary", upgrade("/echo") + frame(2, bytes(range(256)) * 4) + close)
write("session", "too-big", upgrade("/", "coropush.v1") + frame(1, "x" * 5000))
write("session", "bad-utf8", upgrade("/echo") + frame(1, b"\xce\xba\xed\xa0\x80"))
write("session", "bad-key", b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
# Batching: more frames pipelined than one gathered write takes (64), with pings between them
# whose pongs join the batch; and a reply larger than a batch holds (64 KiB) between small ones.
write("session", "batch-many-frames",
      upgrade("/echo") + b"".join(frame(1, "m%d" % i) + (frame(9, "p%d" % i) if i % 10 == 0 else b"")
                                  for i in range(80)) + close)
write("session", "batch-large-reply",
      upgrade("/echo") + frame(1, "a") + frame(2, b"\x07" * 65000) + frame(1, "b") + frame(9, "p") + close)
print("seeds written")
