//! Tools, validation, sessions and calls, with a recording transport in place of the network.

use mistcore::api::{
    Credentials, HttpRequest, HttpResponse, HttpTransport, Secret, TransportError, cloud_base,
    fill_path,
};
use mistcore::call::CallContext;
use mistcore::catalog::{OPERATIONS, ParamLocation, ParamType, operation};
use mistcore::mcp::{self, CallError};
use mistcore::policy::NoConfirm;
use mistcore::schema::validate;
use mistcore::session::{CategoryChange, Session, SessionConfig, ToolMode, resolve_categories};
use serde_json::{Map, Value, json};
use std::sync::Mutex;

const ORG: &str = "6748cfa6-4e12-11e6-9188-0242ac110007";

/// Records requests and answers each with the same response.
struct Recorder {
    requests: Mutex<Vec<HttpRequest>>,
    response: HttpResponse,
}

impl Recorder {
    fn answering(status: u16, body: Value, headers: &[(&str, &str)]) -> Self {
        Recorder {
            requests: Mutex::new(Vec::new()),
            response: HttpResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: body.to_string().into_bytes(),
            },
        }
    }
    fn sent(&self) -> Vec<HttpRequest> {
        self.requests.lock().expect("lock").clone()
    }
}

#[async_trait::async_trait]
impl HttpTransport for Recorder {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.lock().expect("lock").push(request);
        Ok(self.response.clone())
    }
}

fn session(mode: ToolMode, categories: &[&str]) -> Session {
    let config = SessionConfig {
        mode,
        categories: categories.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    };
    let credentials = Credentials {
        token: Some(Secret::new("secret-token")),
        base: url::Url::parse("http://mist.test/prefix").expect("url"),
    };
    Session::new(&config, credentials).expect("session")
}

fn ctx<'a>(session: &'a Session, recorder: &'a Recorder) -> CallContext<'a> {
    CallContext {
        session,
        transport: recorder,
        confirm: &NoConfirm,
        service: &mistcore::host::NoService,
        progress: None,
    }
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

fn text(outcome: &mcp::ToolOutcome) -> String {
    serde_json::to_value(&outcome.result.content)
        .expect("json")
        .to_string()
}

#[test]
fn validation_names_the_argument_and_the_expected_form() {
    let op = operation("searchOrgDevices").expect("op");
    let err = validate(op, &args(json!({}))).expect_err("missing org_id");
    assert_eq!(err.argument, "org_id");
    assert!(err.to_string().contains("UUID"));

    let err = validate(op, &args(json!({"org_id": ORG, "limt": 5}))).expect_err("typo");
    assert!(err.to_string().contains("did you mean `limit`"), "{err}");

    let err = validate(op, &args(json!({"org_id": ORG, "type": "swich"}))).expect_err("bad enum");
    assert!(err.to_string().contains("closest: switch"), "{err}");

    let err =
        validate(op, &args(json!({"org_id": ORG, "limit": "lots"}))).expect_err("not an integer");
    assert_eq!(err.argument, "limit");

    let err = validate(op, &args(json!({"org_id": ORG, "limit": -1}))).expect_err("below minimum");
    assert_eq!(err.argument, "limit");

    let ok = validate(
        op,
        &args(json!({"org_id": ORG, "limit": "10", "type": "ap", "page": null})),
    )
    .expect("valid");
    assert_eq!(ok.path, vec![("org_id", ORG.to_string())]);
    assert!(ok.query.contains(&("limit", "10".to_string())));
    assert!(ok.query.contains(&("type", "ap".to_string())));
    assert!(
        !ok.query.iter().any(|(k, _)| *k == "page"),
        "null is absent"
    );
}

#[test]
fn mac_patterns_and_lists_are_checked() {
    let op = OPERATIONS
        .iter()
        .find(|o| {
            o.params.iter().any(|p| {
                p.pattern == Some("^[0-9a-fA-F]{12}$") && p.location == ParamLocation::Path
            })
        })
        .expect("an operation with a MAC in its path");
    let mac = op
        .params
        .iter()
        .find(|p| p.pattern.is_some())
        .expect("mac param");
    let mut a = Map::new();
    for p in op.params.iter().filter(|p| p.required) {
        a.insert(
            p.name.into(),
            json!(if p.format == Some("uuid") {
                ORG
            } else {
                "5c5b350e0001"
            }),
        );
    }
    assert!(validate(op, &a).is_ok());
    a.insert(mac.name.into(), json!("5c:5b:35:0e:00:01"));
    let err = validate(op, &a).expect_err("colons");
    assert!(err.to_string().contains("12 hex digits"), "{err}");

    let op = operation("searchSiteDevices").expect("op");
    let list = op
        .params
        .iter()
        .find(|p| p.ty == ParamType::Array)
        .expect("an array parameter");
    let ok = validate(
        op,
        &args(json!({"site_id": ORG, list.name: format!("{ORG}, {ORG}")})),
    )
    .expect("comma list");
    assert_eq!(ok.query.iter().filter(|(k, _)| *k == list.name).count(), 2);
}

#[test]
fn path_values_are_encoded_and_dot_segments_refused() {
    let op = OPERATIONS
        .iter()
        .find(|o| {
            o.params.iter().any(|p| {
                p.location == ParamLocation::Path
                    && p.format.is_none()
                    && p.pattern.is_none()
                    && p.ty == ParamType::String
            })
        })
        .expect("an operation with a free-form path parameter");
    let free = op
        .params
        .iter()
        .find(|p| p.location == ParamLocation::Path && p.format.is_none() && p.pattern.is_none())
        .expect("free param");
    let mut a = Map::new();
    for p in op.params.iter().filter(|p| p.required) {
        a.insert(
            p.name.into(),
            json!(if p.format == Some("uuid") { ORG } else { "x" }),
        );
    }
    a.insert(free.name.into(), json!("../a b/?x"));
    let validated = validate(op, &a).expect("valid string");
    let path = fill_path(op, &validated);
    assert!(path.contains("..%2Fa%20b%2F%3Fx"), "{path}");
    a.insert(free.name.into(), json!(".."));
    assert!(validate(op, &a).is_err());
}

#[test]
fn clouds_and_secrets() {
    assert_eq!(
        cloud_base("api.eu.mist.com").expect("eu").as_str(),
        "https://api.eu.mist.com/"
    );
    assert_eq!(
        cloud_base("https://manage.mist.com/")
            .expect("dashboard host")
            .as_str(),
        "https://api.mist.com/"
    );
    let err = cloud_base("api.mist.co").expect_err("typo").to_string();
    assert!(err.contains("did you mean api.mist.com"), "{err}");
    assert_eq!(format!("{:?}", Secret::new("abc")), "Secret(***)");
}

#[test]
fn sessions_and_modes() {
    assert_eq!(
        session(ToolMode::All, &[]).enabled.len(),
        203 + 3,
        "every spec category, workflows, diagnostics and junos"
    );
    let err = Session::new(
        &SessionConfig {
            mode: ToolMode::Custom,
            ..Default::default()
        },
        Credentials::anonymous(),
    )
    .expect_err("custom needs categories");
    assert!(err.to_string().contains("--categories"));
    let cats = resolve_categories(&["sites_w*", "orgs_sites"]).expect("glob");
    assert!(cats.contains(&"sites_wlans") && cats.contains(&"orgs_sites"));
    let err = resolve_categories(&["nothing_*"]).expect_err("empty glob");
    assert!(err.to_string().contains("nothing_*"));

    let mut s = session(ToolMode::Managed, &[]);
    assert!(s.apply(&CategoryChange {
        enable: vec!["orgs_sites"],
        disable: vec![]
    }));
    assert!(!s.apply(&CategoryChange {
        enable: vec!["orgs_sites"],
        disable: vec![]
    }));
    assert!(s.apply(&CategoryChange {
        enable: vec![],
        disable: vec!["orgs_sites"]
    }));
}

#[test]
fn tool_lists_per_mode() {
    let names = |s: &Session| {
        mcp::list_tools(s)
            .into_iter()
            .map(|t| t.name.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&session(ToolMode::Minimal, &[])),
        ["manageMcpTools", "getSelf"]
    );
    let managed = mcp::list_tools(&session(ToolMode::Managed, &[]));
    assert_eq!(managed.len(), 5);
    let bytes = serde_json::to_vec(&json!({ "tools": managed }))
        .expect("json")
        .len();
    assert!(bytes < 6 * 1024, "managed manifest is {bytes} bytes");
    let read_workflows = mistcore::workflows::all()
        .iter()
        .filter(|w| w.write.is_none())
        .count();
    assert_eq!(
        read_workflows, 26,
        "the official 25 with mist_utilities, and mist_list_upgrades"
    );
    assert_eq!(
        names(&session(ToolMode::All, &[])).len(),
        490 + 4 + read_workflows + mistcore::tools::diagnostics::ALL.len()
    );
}

#[tokio::test]
async fn one_request_per_call_with_token_query_and_prefix() {
    let recorder = Recorder::answering(
        200,
        json!([{"id": ORG}]),
        &[
            ("x-page-total", "3"),
            ("x-page-limit", "2"),
            ("x-page-page", "1"),
        ],
    );
    let s = session(ToolMode::Custom, &["orgs_sites"]);
    let outcome = mcp::call_tool(
        ctx(&s, &recorder),
        "listOrgSites",
        Some(args(json!({"org_id": ORG, "limit": 2}))),
    )
    .await
    .expect("known tool");
    assert_ne!(outcome.result.is_error, Some(true), "{}", text(&outcome));
    let sent = recorder.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].url.as_str(),
        format!("http://mist.test/prefix/api/v1/orgs/{ORG}/sites?limit=2")
    );
    assert!(
        sent[0]
            .headers
            .contains(&("authorization".into(), "Token secret-token".into()))
    );
    assert!(
        text(&outcome).contains(r#"\"has_more\":true"#),
        "{}",
        text(&outcome)
    );
}

#[tokio::test]
async fn refused_calls_send_nothing() {
    let recorder = Recorder::answering(200, json!({}), &[]);
    let s = session(ToolMode::Managed, &[]);
    for (name, a) in [
        ("getSelf", json!({"extra": 1})),
        ("listOrgSites", json!({"org_id": ORG})),
        (
            "mist_call_operation",
            json!({"operation_id": "createOrgSite", "arguments": {"org_id": ORG}}),
        ),
        (
            "mist_call_operation",
            json!({"operation_id": "listOrgSites", "arguments": {"org_id": "nope"}}),
        ),
    ] {
        let outcome = mcp::call_tool(ctx(&s, &recorder), name, Some(args(a)))
            .await
            .expect("known tool");
        assert_eq!(outcome.result.is_error, Some(true), "{name}");
    }
    assert!(recorder.sent().is_empty());
    let err = mcp::call_tool(ctx(&s, &recorder), "getSelff", None)
        .await
        .expect_err("unknown tool");
    assert!(matches!(&err, CallError::UnknownTool { .. }) && err.to_string().contains("getSelf"));
}

#[tokio::test]
async fn upstream_errors_carry_status_message_and_hint() {
    let s = session(ToolMode::Managed, &[]);
    for (status, hint) in [
        (401, "token"),
        (403, "getSelf"),
        (404, "ids"),
        (429, "5000 calls per hour"),
    ] {
        let recorder = Recorder::answering(status, json!({"detail": "mist says no"}), &[]);
        let outcome = mcp::call_tool(ctx(&s, &recorder), "getSelf", None)
            .await
            .expect("known tool");
        let t = text(&outcome);
        assert_eq!(outcome.result.is_error, Some(true));
        assert!(
            t.contains(&status.to_string()) && t.contains("mist says no") && t.contains(hint),
            "{t}"
        );
        assert!(!t.contains("secret-token"));
    }
    // Mist (or a proxy) echoing the request's headers back: the token is cut out of the error.
    let recorder = Recorder::answering(
        400,
        json!({"detail": "bad request, headers: Authorization: Token secret-token"}),
        &[],
    );
    let outcome = mcp::call_tool(ctx(&s, &recorder), "getSelf", None)
        .await
        .expect("known tool");
    let t = text(&outcome);
    assert!(!t.contains("secret-token") && t.contains("«token»"), "{t}");
}

#[tokio::test]
async fn missing_token_is_explained() {
    let recorder = Recorder::answering(200, json!({}), &[]);
    // The frontend says where a token comes from; the library only says it is missing.
    let config = SessionConfig {
        missing_token_advice: "send it in the X-Mist-Token header",
        ..Default::default()
    };
    let s = Session::new(&config, Credentials::anonymous()).expect("session");
    let outcome = mcp::call_tool(ctx(&s, &recorder), "getSelf", None)
        .await
        .expect("known tool");
    let t = text(&outcome);
    assert!(
        t.contains("no Mist API token") && t.contains("X-Mist-Token header"),
        "{t}"
    );
    assert!(recorder.sent().is_empty());
}

#[tokio::test]
async fn manage_and_search() {
    let recorder = Recorder::answering(200, json!({}), &[]);
    let s = session(ToolMode::Managed, &[]);
    let outcome = mcp::call_tool(
        ctx(&s, &recorder),
        "manageMcpTools",
        Some(args(json!({"enable_mcp_tools_categories": "orgs_sites"}))),
    )
    .await
    .expect("known");
    assert_eq!(
        outcome.change,
        Some(CategoryChange {
            enable: vec!["orgs_sites"],
            disable: vec![]
        })
    );
    let outcome = mcp::call_tool(
        ctx(&s, &recorder),
        "manageMcpTools",
        Some(args(json!({"enable_mcp_tools_categories": ["orgs_sitez"]}))),
    )
    .await
    .expect("known");
    assert_eq!(outcome.result.is_error, Some(true));
    assert!(outcome.change.is_none());

    for (query, expected) in [
        ("org sites", "listOrgSites"),
        ("getSelf", "getSelf"),
        ("site device events", "searchSiteDeviceEvents"),
    ] {
        let outcome = mcp::call_tool(
            ctx(&s, &recorder),
            "mist_search_operations",
            Some(args(json!({"query": query}))),
        )
        .await
        .expect("known");
        let answer: Value = serde_json::from_str(&text_of_first(&outcome)).expect("json");
        let top: Vec<&str> = answer["results"]
            .as_array()
            .expect("results")
            .iter()
            .take(3)
            .filter_map(|r| r["operation_id"].as_str())
            .collect();
        assert!(top.contains(&expected), "{query}: {top:?}");
    }
}

fn text_of_first(outcome: &mcp::ToolOutcome) -> String {
    let v = serde_json::to_value(&outcome.result.content[0]).expect("json");
    v["text"].as_str().expect("text").to_string()
}

#[test]
fn requests_hide_their_token_when_printed() {
    let op = operation("getSelf").expect("op");
    let s = session(ToolMode::Managed, &[]);
    let request =
        mistcore::api::build_request(&s.credentials, op, &Default::default()).expect("request");
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("secret-token") && shown.contains("***"),
        "{shown}"
    );
}

#[tokio::test]
async fn enabling_workflows_later_keeps_the_session_tools() {
    let recorder = Recorder::answering(200, json!({}), &[]);
    let s = session(ToolMode::Custom, &["orgs_sites"]);
    let outcome = mcp::call_tool(
        ctx(&s, &recorder),
        "manageMcpTools",
        Some(args(json!({"enable_mcp_tools_categories": "workflows"}))),
    )
    .await
    .expect("known");
    let mut after = s.clone();
    after.apply(&outcome.change.expect("a change"));
    let names: Vec<String> = mcp::list_tools(&after)
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        names.contains(&"manageMcpTools".to_string())
            && names.contains(&"mist_get_self".to_string())
    );
}

#[tokio::test]
async fn long_search_queries_are_refused() {
    let recorder = Recorder::answering(200, json!({}), &[]);
    let s = session(ToolMode::Managed, &[]);
    let outcome = mcp::call_tool(
        ctx(&s, &recorder),
        "mist_search_operations",
        Some(args(json!({"query": "site ".repeat(1000)}))),
    )
    .await
    .expect("known");
    assert_eq!(outcome.result.is_error, Some(true));
}
