//! The JSON-RPC dispatcher of edge hosts answers like the native server.

use mistcore::api::{Credentials, HttpRequest, HttpResponse, HttpTransport, TransportError};
use mistcore::jsonrpc::{Confirmations, Headers, dispatch};
use mistcore::policy::NoConfirm;
use mistcore::request_state::StateKey;
use mistcore::session::{Session, SessionConfig};
use serde_json::{Value, json};

/// Confirmations as a server process has them: the human through nobody, states of one key.
fn confirmations() -> Confirmations<'static> {
    static KEY: std::sync::LazyLock<StateKey> =
        std::sync::LazyLock::new(|| StateKey::new(b"test secret", 1));
    Confirmations {
        handshake: &NoConfirm,
        state_key: &KEY,
        server_token: None,
        now: 1_800_000_000,
    }
}

struct Unreachable;

#[async_trait::async_trait]
impl HttpTransport for Unreachable {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Connect("no network in this test".into()))
    }
}

async fn send(session: &mut Session, message: Value) -> Option<Value> {
    dispatch(
        &message.to_string(),
        &Headers::default(),
        session,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations(),
    )
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

    let out = dispatch(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "manageMcpTools", "arguments": {"enable_mcp_tools_categories": "orgs_sites"}}}).to_string(), &Headers::default(), &mut s, &Unreachable, &mistcore::host::NoService, confirmations()).await;
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
    let parse = dispatch(
        "{not json",
        &Headers::default(),
        &mut s,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations(),
    )
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
            .is_some_and(|t| t.contains("no Mist API token"))
    );
}

fn modern(method: &str, name: Option<&str>) -> Headers {
    Headers {
        protocol_version: Some("2026-07-28".into()),
        method: Some(method.into()),
        name: name.map(str::to_string),
    }
}

fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

async fn exchange(headers: &Headers, message: Value) -> (u16, Value) {
    let mut s = Session::new(&SessionConfig::default(), Credentials::anonymous()).expect("session");
    let out = dispatch(
        &message.to_string(),
        headers,
        &mut s,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations(),
    )
    .await;
    (out.status, out.response.unwrap_or(Value::Null))
}

#[tokio::test]
async fn protocol_2026_07_28_rules_as_rmcp_applies_them() {
    let list = |params: Value| json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": params});
    let (status, ok) = exchange(
        &modern("tools/list", None),
        list(json!({"_meta": meta(json!({}))})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ok["result"]["resultType"], "complete");
    assert_eq!(ok["result"]["cacheScope"], "private");

    // _meta missing: -32602 naming the fields, HTTP 400.
    let (status, e) = exchange(&modern("tools/list", None), list(json!({}))).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32602)));
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("clientCapabilities"))
    );
    assert_eq!(e["id"], 9);

    // Header and _meta disagree, or the header is missing: -32020.
    let mut other = modern("tools/list", None);
    other.protocol_version = Some("2025-11-25".into());
    let (status, e) = exchange(&other, list(json!({"_meta": meta(json!({}))}))).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32020)));
    let (status, e) = exchange(&Headers::default(), list(json!({"_meta": meta(json!({}))}))).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32020)));

    // An unknown version: -32022 with what was asked and what is supported.
    let mut future = modern("tools/list", None);
    future.protocol_version = Some("2099-01-01".into());
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let (status, e) = exchange(&future, list(json!({"_meta": m}))).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32022)));
    assert_eq!(e["error"]["data"]["requested"], "2099-01-01");
    assert!(
        e["error"]["data"]["supported"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28")))
    );

    // Mcp-Method and Mcp-Name must match the body (values are case-sensitive, whitespace trimmed).
    let (status, e) = exchange(
        &modern("TOOLS/LIST", None),
        list(json!({"_meta": meta(json!({}))})),
    )
    .await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32020)));
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "mist_search_operations", "arguments": {"query": "sites"}, "_meta": meta(json!({}))}});
    let (status, e) = exchange(&modern("tools/call", Some("getSelf")), call.clone()).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32020)));
    let (status, e) = exchange(&modern("tools/call", None), call.clone()).await;
    assert_eq!((status, e["error"]["code"].as_i64()), (400, Some(-32020)));
    let (status, ok) = exchange(
        &modern("tools/call", Some("  mist_search_operations ")),
        call,
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["result"]["resultType"], "complete");

    // Removed and unknown methods: 404 with -32601.
    for method in [
        "ping",
        "initialize",
        "logging/setLevel",
        "resources/subscribe",
        "nope/nope",
    ] {
        let body = json!({"jsonrpc": "2.0", "id": 3, "method": method, "params": {"_meta": meta(json!({}))}});
        let (status, e) = exchange(&modern(method, None), body).await;
        assert_eq!(
            (status, e["error"]["code"].as_i64()),
            (404, Some(-32601)),
            "{method}"
        );
    }

    // server/discover: versions, capabilities and serverInfo in _meta.
    let body = json!({"jsonrpc": "2.0", "id": 4, "method": "server/discover", "params": {"_meta": meta(json!({}))}});
    let (status, d) = exchange(&modern("server/discover", None), body).await;
    assert_eq!(status, 200);
    assert_eq!(
        d["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mistmcp"
    );
    assert!(
        d["result"]["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2025-06-18")))
    );
}

#[tokio::test]
async fn writes_without_elicitation_name_the_missing_capability() {
    let config = SessionConfig {
        mode: mistcore::session::ToolMode::Custom,
        categories: vec!["orgs_wlans".into()],
        write_tools: true,
        ..Default::default()
    };
    let mut s = Session::new(&config, Credentials::anonymous()).expect("session");
    let call = |caps: Value| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "createOrgWlan", "arguments": {"org_id": "9777c1a0-6ef6-11e6-8bbf-02e208b2d34f", "body": {"ssid": "x"}}, "_meta": meta(caps)}}).to_string()
    };
    let headers = modern("tools/call", Some("createOrgWlan"));
    let refused = dispatch(
        &call(json!({})),
        &headers,
        &mut s,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations(),
    )
    .await;
    let e = refused.response.expect("answer");
    assert_eq!(
        (refused.status, e["error"]["code"].as_i64()),
        (400, Some(-32021))
    );
    assert!(e["error"]["data"]["requiredCapabilities"]["elicitation"].is_object());
    // With elicitation the confirmation comes back in the answer; nothing is sent (no network here).
    let asked = dispatch(
        &call(json!({"elicitation": {}})),
        &headers,
        &mut s,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations(),
    )
    .await;
    let r = asked.response.expect("answer");
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    assert_eq!(
        r["result"]["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    assert!(r["result"]["requestState"].is_string());
}

#[tokio::test]
async fn sessions_live_in_the_store_between_requests() {
    use mistcore::jsonrpc::{Exchange, Host, serve};
    use mistcore::session_store::MemorySessionStore;

    let store = MemorySessionStore::default();
    let ids = std::sync::atomic::AtomicUsize::new(0);
    let next = || {
        format!(
            "s{}",
            ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    };
    let host = Host {
        store: &store,
        transport: &Unreachable,
        service: &mistcore::host::NoService,
        confirmations: confirmations(),
        new_session_id: &next,
    };
    let fresh =
        || Session::new(&SessionConfig::default(), Credentials::anonymous()).expect("session");
    let headers = Headers::default();
    let send = |message: Value, id: Option<&'static str>| {
        let text = message.to_string();
        let headers = headers.clone();
        async move {
            serve(
                Exchange {
                    message: &text,
                    headers: &headers,
                    session_id: id,
                },
                fresh(),
                host,
            )
            .await
        }
    };
    let init = send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}), None).await;
    assert_eq!(init.new_session_id.as_deref(), Some("s0"));
    let enable = send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "manageMcpTools", "arguments": {"enable_mcp_tools_categories": "orgs_sites"}}}), Some("s0")).await;
    assert_eq!(enable.status, 200);
    assert!(enable.new_session_id.is_none());
    let names = |served: &mistcore::jsonrpc::Served| -> Vec<String> {
        served
            .response
            .as_ref()
            .and_then(|r| r["result"]["tools"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_string))
            .collect()
    };
    let listed = send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        Some("s0"),
    )
    .await;
    assert!(names(&listed).iter().any(|n| n == "listOrgSites"));
    // Another session, and a sessionless request, do not see it.
    let other = send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}), None).await;
    assert_eq!(other.new_session_id.as_deref(), Some("s1"));
    let listed = send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        Some("s1"),
    )
    .await;
    assert!(!names(&listed).iter().any(|n| n == "listOrgSites"));
    let alone = send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        None,
    )
    .await;
    assert!(!names(&alone).iter().any(|n| n == "listOrgSites"));
    assert_eq!(store.len(), 2);
    // A session the store does not know: 404.
    let gone = send(
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
        Some("expired"),
    )
    .await;
    assert_eq!(gone.status, 404);
}
