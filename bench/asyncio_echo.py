# Copyright 2026 the netkit authors. MIT license.

"""A length-prefixed (u32 big-endian) echo over Python asyncio streams.

The echo benchmark's Python server, written the way asyncio's documentation
reads: ``readexactly`` for the header and the payload, ``write`` and
``drain`` for the reply.

    python3 bench/asyncio_echo.py --port 0    # prints "listening on 127.0.0.1:PORT"
"""

import argparse
import asyncio
import signal
import sys


async def echo(reader, writer, max_frame_length):
    try:
        while True:
            header = await reader.readexactly(4)
            length = int.from_bytes(header, "big")
            if length > max_frame_length:
                break
            payload = await reader.readexactly(length)
            writer.write(header + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hostname", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--max-frame-length", type=int, default=1 << 20)
    args = parser.parse_args()

    server = await asyncio.start_server(
        lambda r, w: echo(r, w, args.max_frame_length),
        args.hostname,
        args.port,
        backlog=4096,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {args.hostname}:{port}", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with server:
        await stop
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
