// A TypeScript-SDK client for the HTTP tests: initialize, list, enable a category (and see
// tools/list_changed), call getSelf. Prints one JSON line with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, token] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { "X-Mist-Token": token } },
});
const client = new Client({ name: "ts-test", version: "1.0.0" });
let listChanged = 0;
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged += 1; });
await client.connect(transport);
const before = (await client.listTools()).tools.map((t) => t.name);
const enabled = await client.callTool({ name: "manageMcpTools", arguments: { enable_mcp_tools_categories: ["orgs_sites"] } });
const after = (await client.listTools()).tools.map((t) => t.name);
const self = await client.callTool({ name: "getSelf", arguments: {} });
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({
  server: client.getServerVersion()?.name,
  before, after, listChanged,
  enabledError: enabled.isError ?? false,
  self: JSON.parse(self.content[0].text),
}));
await client.close();
