"""A TCP forwarder: listens on 127.0.0.1:LISTEN and forwards every connection to 127.0.0.1:TARGET.

fleet.sh puts it between the simulated hosts and the S3 server, then kills and restarts it: to
the hosts the endpoint goes away (connection refused) and comes back, while the server keeps
what it already holds.
"""
import asyncio
import sys

listen, target = int(sys.argv[1]), int(sys.argv[2])


async def pipe(reader, writer):
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
