//! The JSON-RPC dispatcher of edge hosts answers like the native server.

use mistcore::api::{Credentials, HttpRequest, HttpResponse, HttpTransport, TransportError};
use mistcore::jsonrpc::dispatch;
use mistcore::mcp::NoElicitor;
use mistcore::session::{Session, SessionConfig};
use serde_json::{Value, json};

struct Unreachable;

#[async_trait::async_trait]
impl HttpTransport for Unreachable {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Connect("no network in this test".into()))
    }
}

async fn send(session: &mut Session, message: Value) -> Option<Value> {
    dispatch(&message.to_string(), session, &Unreachable, &NoElicitor)
        .await
        .response
}

#[tokio::test]
async fn a_session_through_the_dispatcher() {
    let mut s = Session::new(&SessionConfig::default(), Credentials::anonymous()).expect("session");
    let init = send(&mut s, json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).await.expect("answer");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "mistmcp");
    assert!(
        send(
            &mut s,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )
        .await
        .is_none()
    );

    let list = send(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await
    .expect("answer");
    // The same tools as the native handler lists.
    assert_eq!(
        list["result"]["tools"],
        serde_json::to_value(mistcore::mcp::list_tools(&s)).expect("json")
    );

    let out = dispatch(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "manageMcpTools", "arguments": {"enable_mcp_tools_categories": "orgs_sites"}}}).to_string(), &mut s, &Unreachable, &NoElicitor).await;
    assert!(out.session_changed);
    assert!(s.enabled.contains("orgs_sites"));

    let unknown = send(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope"}}),
    )
    .await
    .expect("answer");
    assert_eq!(unknown["error"]["code"], -32602);
    let bad = send(&mut s, json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "listOrgSites", "arguments": {"org_id": "x"}}})).await.expect("answer");
    assert_eq!(bad["result"]["isError"], true);
    assert!(
        bad["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("org_id"))
    );
    let method = send(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 6, "method": "prompts/list"}),
    )
    .await
    .expect("answer");
    assert_eq!(method["error"]["code"], -32601);
    let parse = dispatch("{not json", &mut s, &Unreachable, &NoElicitor)
        .await
        .response
        .expect("answer");
    assert_eq!(parse["error"]["code"], -32700);
    let offline = send(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "getSelf"}}),
    )
    .await
    .expect("answer");
    assert!(
        offline["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("MIST_APITOKEN"))
    );
}
