"""The messages between a batch's driver and its local worker processes: an 8-byte length,
then a pickle (over a private pipe between a parent and the child it started).

>>> import io
>>> pipe = io.BytesIO()
>>> write_message(pipe, ["a", 1])
>>> _ = pipe.seek(0)
>>> read_message(pipe)
['a', 1]
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

__all__ = ["read_message", "write_message"]

_LENGTH = struct.Struct(">Q")


def read_message(stream: IO[bytes]) -> Any:
    """The next message on ``stream``, or ``EOFError`` when it is closed."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(header)[0]
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return pickle.loads(body)  # our own messages, over a private pipe


def write_message(stream: IO[bytes], message: Any) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()
