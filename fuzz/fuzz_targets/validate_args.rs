//! Call arguments through `mistcore::schema::validate`, and validated ones through
//! `api::fill_path` and `api::build_request`.
//!
//! Input layout: bytes 0-1 pick the operation of the catalog (little endian, modulo its size);
//! byte 2 bit 1 uses a base URL with a path prefix (requests are built without a token, then
//! with one); the rest is JSON: an object is the arguments as is, an array gives its
//! items to the operation's parameters in order (one more item is the `body`), so that the
//! fuzzer reaches the checks of each parameter without knowing its name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::api::{ApiError, Credentials, Secret, build_request, custom_base, fill_path};
use mistcore::catalog::OPERATIONS;
use mistcore::schema::{BODY_ARGUMENT, validate};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 || OPERATIONS.is_empty() {
        return;
    }
    let op = &OPERATIONS[u16::from_le_bytes([data[0], data[1]]) as usize % OPERATIONS.len()];
    let flags = data[2];
    let args: Map<String, Value> = match serde_json::from_slice::<Value>(&data[3..]) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Array(items)) => {
            let names = op
                .params
                .iter()
                .map(|p| p.name)
                .chain(std::iter::once(BODY_ARGUMENT));
            names
                .zip(items)
                .map(|(name, value)| (name.to_string(), value))
                .collect()
        }
        _ => return,
    };
    let Ok(validated) = validate(op, &args) else {
        return;
    };

    // What validation promises.
    for (name, value) in &validated.path {
        assert!(
            op.param(name).is_some(),
            "{}: unknown path parameter {name}",
            op.id
        );
        assert!(
            !value.is_empty() && value != "." && value != "..",
            "{}: path value {value:?} of {name} let through",
            op.id
        );
    }
    if validated.body.is_some() {
        assert!(
            op.body.is_some(),
            "{}: a body for an operation without one",
            op.id
        );
    }

    let path = fill_path(op, &validated);
    assert!(path.starts_with('/'), "{}: path {path:?}", op.id);
    // A value fills its own segment only: no new segment, no dot segment.
    let template: Vec<&str> = op.path.split('/').collect();
    let filled: Vec<&str> = path.split('/').collect();
    assert_eq!(
        template.len(),
        filled.len(),
        "{}: {path:?} does not have the segments of {}",
        op.id,
        op.path
    );
    for seg in &filled {
        assert!(
            *seg != "." && *seg != "..",
            "{}: dot segment in {path:?}",
            op.id
        );
    }

    let mut credentials = Credentials::anonymous();
    if flags & 0x02 != 0 {
        match custom_base("http://127.0.0.1:4010/prefix/") {
            Ok(base) => credentials.base = base,
            Err(e) => panic!("the test base URL is refused: {e}"),
        }
    }
    match build_request(&credentials, op, &validated) {
        Err(ApiError::MissingToken) => {}
        other => panic!("{}: without a token: {other:?}", op.id),
    }
    credentials.token = Some(Secret::new("fuzz-token"));
    let request = match build_request(&credentials, op, &validated) {
        Ok(r) => r,
        Err(e) => panic!("{}: with a token: {e}", op.id),
    };
    // The request goes to the configured cloud, on the operation's path, nowhere else.
    assert_eq!(request.method, op.method);
    assert_eq!(request.url.scheme(), credentials.base.scheme());
    assert_eq!(request.url.host_str(), credentials.base.host_str());
    assert_eq!(request.url.port(), credentials.base.port());
    let prefix = credentials.base.path().trim_end_matches('/');
    assert_eq!(
        request.url.path(),
        format!("{prefix}{path}"),
        "{}: the URL path is not the filled path",
        op.id
    );
    assert!(request.url.fragment().is_none());
    let query: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let expected: Vec<(String, String)> = validated
        .query
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(query, expected, "{}: the query does not round-trip", op.id);
    assert_eq!(request.body.is_some(), validated.body.is_some());
});
