"""An MCP client session on the mistmcp binary, with the official Python SDK."""

from __future__ import annotations

import contextlib
import tempfile

from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


class Client:
    """A connected ClientSession plus the notifications the server sent."""

    def __init__(self, session: ClientSession, stderr):
        self.session = session
        self.notifications: list = []
        self._stderr = stderr

    def stderr(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def list_changed_count(self) -> int:
        return sum(isinstance(n, types.ToolListChangedNotification) for n in self.notifications)

    async def tool_names(self) -> list[str]:
        return [t.name for t in (await self.session.list_tools()).tools]

    async def call(self, name: str, arguments: dict | None = None):
        return await self.session.call_tool(name, arguments or {})


@contextlib.asynccontextmanager
async def connect(binary: str, args: list[str] | None = None, env: dict[str, str] | None = None, elicitation=None):
    """Starts `binary` and yields an initialized Client; `elicitation` answers confirmations
    (the client declares the capability only when it is given)."""
    # A scratch working directory: a developer's ./.env must not leak into the tests.
    with tempfile.TemporaryFile("w+") as errlog, tempfile.TemporaryDirectory() as cwd:
        params = StdioServerParameters(command=binary, args=args or [], env=env, cwd=cwd)
        async with stdio_client(params, errlog=errlog) as (read, write):
            holder: list[Client] = []

            async def on_message(message):
                if holder:
                    holder[0].notifications.append(message)

            async with ClientSession(read, write, message_handler=on_message, elicitation_callback=elicitation) as session:
                client = Client(session, errlog)
                holder.append(client)
                await session.initialize()
                yield client
