//! Mist's answers and pagination links: `api::interpret` on arbitrary responses (status,
//! `Content-Type`, `X-Page-Total`/`X-Page-Limit`/`X-Page-Page`, `Retry-After`, body),
//! `api::send` (which builds the next-page link of list answers), and `api::next_page_target`
//! (with `build_path_request`) on arbitrary links, plus `cloud_base`/`custom_base`.
//!
//! Input layout:
//! - bytes 0-1, the status (little endian; bit 0 of byte 2 forces 200);
//! - byte 2, flags: bit 0 status 200, bit 1 a base URL with a path prefix, bits 2-3 the content
//!   type (none, JSON, HTML, plain text), bit 4 send the `X-Page-*` headers, bit 5 send
//!   `Retry-After`, bit 6 capitalised header names;
//! - bytes 3-4, the operation (modulo the catalog's size);
//! - then lines (`\n`): total, limit, page, retry-after, a link, a query value; the rest is the
//!   body (raw bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::api::{
    ApiError, Credentials, HttpRequest, HttpResponse, HttpTransport, Secret, TransportError,
    build_path_request, build_request, cloud_base, custom_base, interpret, next_page_target, send,
};
use mistcore::catalog::{Method, OPERATIONS, Operation, ParamLocation};
use mistcore::schema::ValidatedArgs;

/// A transport that answers every request with the same response.
struct Answer(HttpResponse);

#[async_trait::async_trait]
impl HttpTransport for Answer {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(self.0.clone())
    }
}

fn credentials(prefixed: bool) -> Credentials {
    let mut c = Credentials::anonymous();
    if prefixed {
        match custom_base("http://127.0.0.1:4010/prefix") {
            Ok(base) => c.base = base,
            Err(e) => panic!("the test base URL is refused: {e}"),
        }
    }
    c.token = Some(Secret::new("fuzz-token"));
    c
}

/// What a followed link must be: a GET on the session's cloud, under its `/api/v1/`.
fn check_link(credentials: &Credentials, link: &str) {
    let Ok((op, relative)) = next_page_target(credentials, link) else {
        return;
    };
    assert_eq!(op.method, Method::Get, "{link:?} -> {}", op.id);
    assert!(relative.starts_with("/api/v1/"), "{link:?} -> {relative:?}");
    let request = match build_path_request(credentials, op.method, &relative) {
        Ok(r) => r,
        Err(e) => panic!("{link:?}: {e}"),
    };
    let base = &credentials.base;
    assert_eq!(request.url.scheme(), base.scheme(), "{link:?}");
    assert_eq!(request.url.host_str(), base.host_str(), "{link:?}");
    assert_eq!(
        request.url.port_or_known_default(),
        base.port_or_known_default()
    );
    let prefix = base.path().trim_end_matches('/');
    assert!(
        request.url.path().starts_with(&format!("{prefix}/api/v1/")),
        "{link:?} leaves the API: {}",
        request.url
    );
    assert!(
        !request.url.path().split('/').any(|s| s == ".." || s == "."),
        "{link:?}: {}",
        request.url
    );
}

/// The request of a list call: path parameters filled, a query with `limit`.
fn list_request(credentials: &Credentials, op: &'static Operation, limit: &str) -> HttpRequest {
    let args = ValidatedArgs {
        path: op
            .params
            .iter()
            .filter(|p| p.location == ParamLocation::Path)
            .map(|p| (p.name, "6748cfa6-4e12-11e6-9188-0242ac110007".to_string()))
            .collect(),
        query: vec![("limit", limit.to_string()), ("page", "1".to_string())],
        body: None,
    };
    match build_request(credentials, op, &args) {
        Ok(r) => r,
        Err(e) => panic!("{}: {e}", op.id),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 || OPERATIONS.is_empty() {
        return;
    }
    let flags = data[2];
    let status = if flags & 1 != 0 {
        200
    } else {
        u16::from_le_bytes([data[0], data[1]])
    };
    let op = &OPERATIONS[u16::from_le_bytes([data[3], data[4]]) as usize % OPERATIONS.len()];
    let mut parts = data[5..].splitn(7, |b| *b == b'\n');
    let mut line = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).into_owned();
    let (total, limit, page, retry_after, link, query) =
        (line(), line(), line(), line(), line(), line());
    let body = parts.next().unwrap_or(b"").to_vec();

    let name = |n: &str| {
        if flags & 0x40 != 0 {
            n.split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("-")
        } else {
            n.to_string()
        }
    };
    let mut headers = Vec::new();
    match (flags >> 2) & 3 {
        0 => {}
        1 => headers.push((name("content-type"), "application/json".to_string())),
        2 => headers.push((name("content-type"), "text/html; charset=utf-8".to_string())),
        _ => headers.push((name("content-type"), "text/plain".to_string())),
    }
    if flags & 0x10 != 0 {
        headers.push((name("x-page-total"), total.clone()));
        headers.push((name("x-page-limit"), limit.clone()));
        headers.push((name("x-page-page"), page.clone()));
    }
    if flags & 0x20 != 0 {
        headers.push((name("retry-after"), retry_after.clone()));
    }
    let response = HttpResponse {
        status,
        headers,
        body,
    };

    match interpret(op, op.path, response.clone()) {
        Ok(answer) => {
            assert_eq!(answer.status, status);
            assert!((200..300).contains(&status), "{status} taken for a success");
            if let Some(p) = &answer.pagination {
                if p.has_more && p.next.is_none() {
                    let (t, l, pg) = (p.total, p.limit, p.page);
                    assert!(
                        matches!((t, l, pg), (Some(t), Some(l), Some(pg)) if l > 0 && pg.saturating_mul(l) < t),
                        "has_more without the headers to say so: {p:?}"
                    );
                }
            }
        }
        Err(ApiError::Status { status: s, .. }) => {
            assert_eq!(s, status);
            assert!(!(200..300).contains(&status), "{status} taken for an error");
        }
        Err(_) => {}
    }

    let credentials = credentials(flags & 0x02 != 0);
    let request = list_request(&credentials, op, &query);
    if let Ok(answer) = pollster::block_on(send(&Answer(response), &credentials, op, request))
        && let Some(next) = answer.pagination.as_ref().and_then(|p| p.next.as_deref())
    {
        let from_headers = answer.pagination.as_ref().is_some_and(|p| p.page.is_some());
        check_link(&credentials, next);
        // The link this server makes for a list answer must be one it follows.
        if from_headers && op.method == Method::Get && op.path.starts_with("/api/v1/") {
            assert!(
                next_page_target(&credentials, next).is_ok(),
                "{}: its own next link {next:?} is refused: {:?}",
                op.id,
                next_page_target(&credentials, next).err()
            );
        }
    }

    check_link(&credentials, &link);
    check_link(&credentials, &query);
    if let Ok(base) = custom_base(&link) {
        assert!(matches!(base.scheme(), "http" | "https"));
    }
    let _ = cloud_base(&link);
});
