//! The generated catalog against the spec it came from.

use mistcore::catalog::{
    CATEGORIES, Method, OPERATIONS, ParamLocation, ParamType, category, operation,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The spec, found as build.rs finds it.
fn spec() -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        std::env::var("MIST_OPENAPI_SPEC")
            .map(PathBuf::from)
            .unwrap_or_default(),
        root.join("mist_openapi/mist.openapi.json"),
        root.join("../shared/mist_openapi/mist.openapi.json"),
    ];
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .expect("the spec is where build.rs found it");
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable spec"))
        .expect("spec is JSON")
}

#[test]
fn counts_match_the_spec() {
    assert_eq!(OPERATIONS.len(), 1011);
    assert_eq!(
        OPERATIONS
            .iter()
            .filter(|o| o.method == Method::Get)
            .count(),
        490
    );
    assert_eq!(CATEGORIES.len(), 203);
    assert!(
        OPERATIONS.windows(2).all(|w| w[0].id < w[1].id),
        "sorted for binary search"
    );
}

#[test]
fn category_slugs_follow_the_python_server() {
    let c = category("orgs_clients___wireless").expect("slug of 'Orgs Clients - Wireless'");
    assert_eq!(c.tag, "Orgs Clients - Wireless");
    assert!(category("self_account").is_some());
    assert!(CATEGORIES.iter().all(|c| {
        c.slug
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
    }));
}

#[test]
fn every_path_parameter_fills_its_template() {
    for op in OPERATIONS {
        let in_template: BTreeSet<&str> = op
            .path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        let declared: BTreeSet<&str> = op
            .params
            .iter()
            .filter(|p| p.location == ParamLocation::Path)
            .map(|p| p.name)
            .collect();
        assert_eq!(in_template, declared, "{}", op.id);
        assert!(
            op.params
                .iter()
                .filter(|p| p.location == ParamLocation::Path)
                .all(|p| p.required)
        );
    }
}

#[test]
fn spot_checks_against_the_spec() {
    let spec = spec();
    for (id, method, path) in [
        ("listOrgSites", "get", "/api/v1/orgs/{org_id}/sites"),
        (
            "searchOrgDevices",
            "get",
            "/api/v1/orgs/{org_id}/devices/search",
        ),
        ("getSelf", "get", "/api/v1/self"),
        ("createOrgSite", "post", "/api/v1/orgs/{org_id}/sites"),
        (
            "deleteSiteWlan",
            "delete",
            "/api/v1/sites/{site_id}/wlans/{wlan_id}",
        ),
    ] {
        let op = operation(id).expect(id);
        let raw = &spec["paths"][path][method];
        assert_eq!(raw["operationId"], id);
        assert_eq!(op.method.as_str(), method.to_uppercase());
        assert_eq!(op.path, path);
        assert_eq!(Some(op.tag), raw["tags"][0].as_str());
        // Parameter names: the operation's own plus the path item's.
        let mut names = BTreeSet::new();
        for list in [&spec["paths"][path]["parameters"], &raw["parameters"]] {
            for p in list.as_array().into_iter().flatten() {
                let p = match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => spec.pointer(&r[1..]).expect("ref"),
                    None => p,
                };
                names.insert(p["name"].as_str().expect("name").to_string());
            }
        }
        let ours: BTreeSet<String> = op.params.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(ours, names, "{id}");
    }

    let search = operation("searchOrgDevices").expect("searchOrgDevices");
    let ty = search.param("type").expect("type filter");
    assert_eq!(ty.location, ParamLocation::Query);
    assert!(ty.enum_values.contains(&"switch") && ty.enum_values.contains(&"ap"));
    let limit = search.param("limit").expect("limit");
    assert_eq!(limit.ty, ParamType::Integer);
    assert_eq!(limit.default, Some("100"));
    assert!(!limit.required);

    let create = operation("createOrgSite").expect("createOrgSite");
    let body = create.body.expect("a body");
    assert_eq!(body.content_type, "application/json");
    assert_eq!(body.schema, Some("site"));

    let get_self = operation("getSelf").expect("getSelf");
    assert!(get_self.params.is_empty());
    assert!(
        get_self.summary.contains("whoami"),
        "summary from the description: {}",
        get_self.summary
    );
}

#[test]
fn the_clouds_are_the_specs_servers() {
    let spec = spec();
    let hosts: Vec<&str> = mistcore::catalog::CLOUD_HOSTS
        .iter()
        .map(|c| c.url)
        .collect();
    let expected: Vec<&str> = spec["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .filter_map(|s| s["url"].as_str())
        .collect();
    assert_eq!(hosts, expected);
    assert_eq!(hosts.len(), 12);
}
