//! Generates the operation catalog from the Mist OpenAPI specification.
//!
//! The output (`$OUT_DIR/catalog_data.rs`) is plain static data: no parsing at run time and
//! nothing derived from the spec is committed. The spec is read with `serde_json` into a
//! `Value`: we need a small, stable subset of it (paths, parameters, tags, servers), and a
//! typed OpenAPI model would cost more compile time than the ~200 lines below.

use serde_json::Value;
use std::collections::BTreeMap;

// The same words and stems as the queries at run time.
#[path = "src/text.rs"]
#[allow(dead_code)]
mod text;
use std::fmt::Write as _;
use std::path::PathBuf;

const SPEC_ENV: &str = "MIST_OPENAPI_SPEC";

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // mistcore/catalog/ -> the workspace root.
    let root = manifest
        .parent()
        .and_then(|p| p.parent())
        .expect("mistcore/catalog lives inside the workspace")
        .to_path_buf();
    println!("cargo:rerun-if-env-changed={SPEC_ENV}");
    let candidates: Vec<(String, PathBuf)> = vec![
        (
            format!("${SPEC_ENV}"),
            std::env::var_os(SPEC_ENV)
                .map(PathBuf::from)
                .unwrap_or_default(),
        ),
        (
            "mist_openapi/mist.openapi.json".into(),
            root.join("mist_openapi/mist.openapi.json"),
        ),
        (
            "../shared/mist_openapi/mist.openapi.json".into(),
            root.join("../shared/mist_openapi/mist.openapi.json"),
        ),
    ];
    let chosen = candidates
        .iter()
        .position(|(_, p)| !p.as_os_str().is_empty() && p.is_file());
    // Cargo reruns a build script on every build while a watched path is missing, so only
    // existing paths are watched: the spec read, and the workspace's `mist_openapi/` folder
    // (which exists in every checkout) when a spec placed there later would win.
    if let Some(i) = chosen {
        println!("cargo:rerun-if-changed={}", candidates[i].1.display());
        let local = root.join("mist_openapi");
        if i > 1 && local.is_dir() {
            println!("cargo:rerun-if-changed={}", local.display());
        }
    }
    let Some((_, spec_path)) = chosen.map(|i| &candidates[i]) else {
        panic!(
            "mistcore-catalog: the Mist OpenAPI spec was not found. Looked, in order, at:\n  1. ${SPEC_ENV} (unset or not a file)\n  2. mist_openapi/mist.openapi.json in the workspace\n  3. ../shared/mist_openapi/mist.openapi.json beside the workspace\nPut mist.openapi.json from https://github.com/mistsys/mist_openapi in one of them (see mist_openapi/README.md)."
        );
    };
    let text = std::fs::read_to_string(spec_path)
        .unwrap_or_else(|e| panic!("mistcore-catalog: cannot read {}: {e}", spec_path.display()));
    let spec: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "mistcore-catalog: {} is not valid JSON: {e}",
            spec_path.display()
        )
    });
    let mut out = generate(&spec);
    out.push_str(&secret_candidates(&spec));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The configuration schemas (0.4 MB of JSON, used only by the configuration workflows)
    // are kept deflated: every start of the edge module reads and copies its data, used or not.
    let schemas = miniz_oxide::deflate::compress_to_vec(schema_closure(&spec).as_bytes(), 9);
    std::fs::write(out_dir.join("config_schemas.deflate"), schemas)
        .expect("write the deflated configuration schemas");
    std::fs::write(out_dir.join("catalog_data.rs"), out).expect("write the generated catalog");
}

/// Follows `$ref` pointers (`#/components/...`) until a concrete object.
fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r} is not supported"));
        v = spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    v
}

/// The most fields of an answer listed.
const MAX_ANSWER_FIELDS: usize = 80;

/// The shape of an operation's 200 answer: a list or not, the key holding records (`results`
/// of searches), and the top-level fields of the records (variants of a `oneOf` merged).
fn answer_shape<'a>(spec: &'a Value, op: &'a Value) -> (bool, Option<&'static str>, Vec<String>) {
    let response = resolve(spec, &op["responses"]["200"]);
    let schema = resolve(spec, &response["content"]["application/json"]["schema"]);
    let mut fields = Vec::new();
    if schema["type"] == "array" {
        object_fields(spec, &schema["items"], &mut fields, 0);
        return (true, None, fields);
    }
    let props = schema["properties"].as_object();
    if let Some(results) = props.and_then(|p| p.get("results")) {
        let results = resolve(spec, results);
        if results["type"] == "array" {
            object_fields(spec, &results["items"], &mut fields, 0);
            return (false, Some("results"), fields);
        }
    }
    object_fields(spec, schema, &mut fields, 0);
    (false, None, fields)
}

/// The property names of an object schema (and of its `oneOf`/`anyOf`/`allOf` variants).
fn object_fields(spec: &Value, schema: &Value, out: &mut Vec<String>, depth: usize) {
    let schema = resolve(spec, schema);
    if let Some(props) = schema["properties"].as_object() {
        for key in props.keys() {
            if out.len() < MAX_ANSWER_FIELDS && !out.contains(key) {
                out.push(key.clone());
            }
        }
    }
    if depth < 3 {
        for combinator in ["allOf", "oneOf", "anyOf"] {
            for variant in schema[combinator].as_array().into_iter().flatten() {
                object_fields(spec, variant, out, depth + 1);
            }
        }
    }
}

/// One field of an operation's search text (BM25F): how much a word in it counts, and how much
/// the field's length dilutes it (BM25's b) — a long description says less per word than an id.
#[derive(Clone, Copy)]
struct Field {
    weight: f32,
    normalize: f32,
}

const FIELD_ID: Field = Field {
    weight: 3.0,
    normalize: 0.3,
};
const FIELD_SUMMARY: Field = Field {
    weight: 2.0,
    normalize: 0.5,
};
const FIELD_CATEGORY: Field = Field {
    weight: 1.5,
    normalize: 0.3,
};
const FIELD_PATH: Field = Field {
    weight: 1.5,
    normalize: 0.3,
};
const FIELD_DESCRIPTION: Field = Field {
    weight: 0.5,
    normalize: 0.75,
};
const FIELD_PARAMS: Field = Field {
    weight: 0.5,
    normalize: 0.75,
};

/// Writes the search index: the vocabulary (stems, sorted), and for each stem the operations
/// that hold it with its BM25F frequency (each field's count, weighted and normalized by the
/// field's length against its average, summed; x100).
fn search_index(
    out: &mut String,
    ops: &[(String, String)],
    docs: &BTreeMap<String, Vec<(Field, String)>>,
) {
    let stems: Vec<Vec<Vec<String>>> = ops
        .iter()
        .map(|(id, _)| docs[id].iter().map(|(_, text)| text::stems(text)).collect())
        .collect();
    let fields = docs.values().next().map_or(0, Vec::len);
    let mut average = vec![0f32; fields];
    for doc in &stems {
        for (f, words) in doc.iter().enumerate() {
            average[f] += words.len() as f32 / ops.len() as f32;
        }
    }
    let mut postings: BTreeMap<String, Vec<(usize, f32)>> = BTreeMap::new();
    for (index, (id, _)) in ops.iter().enumerate() {
        let mut tf: BTreeMap<&str, f32> = BTreeMap::new();
        for (f, ((field, _), words)) in docs[id].iter().zip(&stems[index]).enumerate() {
            let norm =
                1.0 - field.normalize + field.normalize * words.len() as f32 / average[f].max(1e-3);
            for w in words {
                *tf.entry(w.as_str()).or_default() += field.weight / norm;
            }
        }
        for (stem, f) in tf {
            postings
                .entry(stem.to_string())
                .or_default()
                .push((index, f));
        }
    }
    let scaled = |f: f32| ((f * 100.0).round() as u32).clamp(1, u16::MAX as u32);
    out.push_str(
        "/// The search index's stems, sorted.\npub(crate) static INDEX_TERMS: &[&str] = &[",
    );
    for term in postings.keys() {
        write!(out, "{},", lit(term)).ok();
    }
    out.push_str("];\n/// For each stem of [`INDEX_TERMS`], the operations (index in OPERATIONS) holding it and its BM25F frequency x100.\npub(crate) static INDEX_POSTINGS: &[&[(u16, u16)]] = &[");
    for list in postings.values() {
        out.push_str("&[");
        for (op, f) in list {
            write!(out, "({op},{}),", scaled(*f)).ok();
        }
        out.push_str("],");
    }
    out.push_str("];\n");
}

fn slug(tag: &str) -> String {
    tag.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// First paragraph of a markdown text, whitespace collapsed, cut at `max` chars on a word boundary.
fn brief(text: &str, max: usize) -> String {
    let para = text.split("\n\n").next().unwrap_or("");
    let flat = para.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&flat, max)
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    if let Some(i) = s.rfind(' ') {
        s.truncate(i);
    }
    s.push('…');
    s
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn opt_lit(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".into(),
    }
}

fn param_type(t: &str) -> &'static str {
    match t {
        "string" => "ParamType::String",
        "integer" => "ParamType::Integer",
        "number" => "ParamType::Number",
        "boolean" => "ParamType::Boolean",
        "array" => "ParamType::Array",
        other => panic!("unsupported parameter type {other}"),
    }
}

/// The configuration object schemas of `mist_get_configuration_object_schema`: the official
/// server's names, and the component schema of each in the spec.
const CONFIG_SCHEMAS: &[(&str, &str)] = &[
    ("org_wlan", "wlan"),
    ("site_wlan", "wlan"),
    ("org_rftemplate", "rf_template"),
    ("org_networktemplate", "network_template"),
    ("gatewaytemplate", "gateway_template"),
    ("org_alarmtemplate", "alarm_template"),
    ("site_device_ap", "device_ap"),
    ("site_device_switch", "device_switch"),
    ("site_device_gateway", "device_gateway"),
    ("org_deviceprofile_ap", "deviceprofile_ap"),
    ("org_deviceprofile_switch", "deviceprofile_switch"),
    ("org_deviceprofile_gateway", "deviceprofile_gateway"),
    ("org_network", "network"),
    ("org_servicepolicy", "org_service_policy"),
    ("org_vpn", "vpn"),
    ("org_mxedge", "mxedge"),
    ("site_mxedge", "mxedge"),
    ("org_idpprofile", "idp_profile"),
    ("org_avprofile", "avprofile"),
    ("org_aamwprofile", "aamw_profile"),
    ("org_nactag", "nac_tag"),
    ("org_nacrule", "nac_rule"),
    ("org_psk", "psk"),
    ("site_psk", "psk"),
    ("org_service", "service"),
    ("org_site", "site"),
    ("org_sitetemplate", "site_template"),
    ("org_sitegroup", "sitegroup"),
    ("org_webhook", "webhook"),
    ("site_webhook", "webhook"),
    ("org_wxlanrule", "wxlan_rule"),
    ("site_wxlanrule", "wxlan_rule"),
    ("org_wxlantag", "wxlan_tag"),
    ("site_wxlantag", "wxlan_tag"),
    ("org_setting", "org_setting"),
    ("site_setting", "site_setting"),
];

/// The named component schemas and every schema they reach through `$ref`, as one minified
/// JSON object: what `mist_get_configuration_object_schema` needs, about a third of all schemas.
fn schema_closure(spec: &Value) -> String {
    let all = spec["components"]["schemas"]
        .as_object()
        .expect("spec has component schemas");
    let mut todo: Vec<String> = CONFIG_SCHEMAS.iter().map(|(_, c)| c.to_string()).collect();
    let mut closure = serde_json::Map::new();
    while let Some(name) = todo.pop() {
        if closure.contains_key(&name) {
            continue;
        }
        let schema = all
            .get(&name)
            .unwrap_or_else(|| panic!("component schema {name} is missing"));
        collect_refs(schema, &mut todo);
        closure.insert(name, schema.clone());
    }
    Value::Object(closure).to_string()
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_string());
            }
            o.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn generate(spec: &Value) -> String {
    let mut out = String::new();
    out.push_str("// Generated by mistcore/build.rs from the Mist OpenAPI spec. Do not edit.\n");
    let pairs: Vec<String> = CONFIG_SCHEMAS
        .iter()
        .map(|(n, c)| format!("({n:?}, {c:?})"))
        .collect();
    writeln!(out, "/// `mist_get_configuration_object_schema` names and their component schemas.\npub static CONFIG_SCHEMAS: &[(&str, &str)] = &[{}];", pairs.join(", ")).ok();
    writeln!(out, "/// Those component schemas and all they reference, as one minified JSON object, deflated\n/// (raw DEFLATE): see [`config_schema_components`].\npub static CONFIG_SCHEMA_COMPONENTS_DEFLATED: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/config_schemas.deflate\"));").ok();

    // Cloud hosts.
    let servers: Vec<String> = spec["servers"]
        .as_array()
        .expect("spec has servers")
        .iter()
        .map(|s| {
            let url = s["url"].as_str().expect("server url");
            format!(
                "CloudHost {{ url: {}, name: {} }}",
                lit(url),
                lit(s["description"].as_str().unwrap_or(""))
            )
        })
        .collect();
    writeln!(out, "/// The Mist clouds of the spec's `servers`.\npub static CLOUD_HOSTS: &[CloudHost] = &[{}];", servers.join(", ")).ok();
    writeln!(out, "/// The API version of the spec the catalog was generated from.\npub const SPEC_VERSION: &str = {};", lit(spec["info"]["version"].as_str().unwrap_or("unknown"))).ok();

    // Categories (one per tag).
    let mut tag_desc: BTreeMap<String, String> = BTreeMap::new();
    for t in spec["tags"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().expect("tag name").to_string();
        tag_desc.insert(name, brief(t["description"].as_str().unwrap_or(""), 160));
    }

    let methods = ["get", "post", "put", "delete", "patch"];
    let mut ops: Vec<(String, String)> = Vec::new(); // (operationId, rust literal)
    let mut docs: BTreeMap<String, Vec<(Field, String)>> = BTreeMap::new(); // operationId -> its fields
    let mut used_tags: BTreeMap<String, String> = BTreeMap::new(); // slug -> tag
    for (path, item) in spec["paths"].as_object().expect("spec has paths") {
        let common = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in methods {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            let tag = op["tags"]
                .as_array()
                .and_then(|t| t.first())
                .and_then(Value::as_str)
                .unwrap_or("Untagged");
            let category = slug(tag);
            used_tags.insert(category.clone(), tag.to_string());
            let description = op["description"].as_str().unwrap_or("");
            let summary = match op["summary"].as_str() {
                Some(s) if s != id && !s.is_empty() => s.to_string(),
                _ => brief(description, 200),
            };
            let summary = if summary.is_empty() {
                id.to_string()
            } else {
                summary
            };

            // Operation-level parameters override path-level ones of the same name and location.
            let mut params: Vec<&Value> = Vec::new();
            let op_params = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut seen = std::collections::HashSet::new();
            let op_resolved: Vec<&Value> = op_params.iter().map(|p| resolve(spec, p)).collect();
            for p in &op_resolved {
                seen.insert((
                    p["name"].as_str().unwrap_or("").to_string(),
                    p["in"].as_str().unwrap_or("").to_string(),
                ));
            }
            for p in common.iter().map(|p| resolve(spec, p)) {
                let key = (
                    p["name"].as_str().unwrap_or("").to_string(),
                    p["in"].as_str().unwrap_or("").to_string(),
                );
                if !seen.contains(&key) {
                    params.push(p);
                }
            }
            params.extend(op_resolved);
            // Path parameters first, in template order; then query parameters, required first.
            params.sort_by_key(|p| {
                let name = p["name"].as_str().unwrap_or("");
                match p["in"].as_str() {
                    Some("path") => (0, path.find(&format!("{{{name}}}")).unwrap_or(usize::MAX)),
                    _ if p["required"].as_bool() == Some(true) => (1, 0),
                    _ => (2, 0),
                }
            });

            let mut plits = Vec::new();
            for p in &params {
                let loc = match p["in"].as_str() {
                    Some("path") => "ParamLocation::Path",
                    Some("query") => "ParamLocation::Query",
                    Some(other) => panic!("{id}: unsupported parameter location {other}"),
                    None => panic!("{id}: parameter without location"),
                };
                let schema = resolve(spec, &p["schema"]);
                let ty = param_type(schema["type"].as_str().unwrap_or("string"));
                let items = schema.get("items").map(|i| resolve(spec, i));
                let item_ty = items.map(|i| param_type(i["type"].as_str().unwrap_or("string")));
                let format = schema["format"]
                    .as_str()
                    .or_else(|| items.and_then(|i| i["format"].as_str()));
                let enums: Vec<String> = schema["enum"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| {
                                lit(v
                                    .as_str()
                                    .unwrap_or_else(|| panic!("{id}: non-string enum")))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let json = |v: &Value| {
                    if v.is_null() {
                        None
                    } else {
                        Some(v.to_string())
                    }
                };
                let default = json(&schema["default"]);
                let example = json(&p["example"]).or_else(|| json(&schema["example"]));
                let pdesc = p["description"]
                    .as_str()
                    .or_else(|| schema["description"].as_str())
                    .unwrap_or("");
                let num = |v: &Value| {
                    v.as_f64()
                        .map(|f| format!("Some({f:?})"))
                        .unwrap_or_else(|| "None".into())
                };
                plits.push(format!(
                    "Param {{ name: {}, location: {loc}, required: {}, ty: {ty}, item_ty: {}, format: {}, pattern: {}, enum_values: &[{}], default: {}, example: {}, minimum: {}, maximum: {}, description: {} }}",
                    lit(p["name"].as_str().expect("parameter name")),
                    p["required"].as_bool().unwrap_or(false) || loc == "ParamLocation::Path",
                    item_ty.map(|t| format!("Some({t})")).unwrap_or_else(|| "None".into()),
                    opt_lit(format),
                    opt_lit(schema["pattern"].as_str()),
                    enums.join(", "),
                    opt_lit(default.as_deref()),
                    opt_lit(example.as_deref()),
                    num(&schema["minimum"]),
                    num(&schema["maximum"]),
                    lit(&brief(pdesc, 300)),
                ));
            }

            let body = op.get("requestBody").map(|rb| {
                let rb = resolve(spec, rb);
                let content = rb["content"].as_object().expect("requestBody content");
                let (ct, media) = content
                    .iter()
                    .next()
                    .expect("requestBody has one content type");
                let schema_ref = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next());
                format!(
                    "Some(Body {{ content_type: {}, schema: {}, required: {} }})",
                    lit(ct),
                    opt_lit(schema_ref),
                    rb["required"].as_bool().unwrap_or(false)
                )
            });
            let (list, records_in, fields) = answer_shape(spec, op);
            let answer = format!(
                "Answer {{ list: {list}, records_in: {}, field_list: {} }}",
                opt_lit(records_in),
                // One string per operation: a list of strings would need a pointer per field,
                // each relocated when the binary is loaded.
                lit(&fields.join(","))
            );
            let lit_op = format!(
                "Operation {{ id: {}, method: Method::{}, path: {}, tag: {}, category: {}, summary: {}, description: {}, params: &[{}], body: {}, answer: {answer} }}",
                lit(id),
                match method {
                    "get" => "Get",
                    "post" => "Post",
                    "put" => "Put",
                    "delete" => "Delete",
                    _ => "Patch",
                },
                lit(path),
                lit(tag),
                lit(&category),
                lit(&summary),
                lit(&cut(description.trim(), 1500)),
                plits.join(", "),
                body.unwrap_or_else(|| "None".into()),
            );
            ops.push((id.to_string(), lit_op));
            let param_names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
            let literal_path: Vec<&str> = path
                .split('/')
                .filter(|seg| !seg.starts_with('{') && !seg.is_empty())
                .collect();
            docs.insert(
                id.to_string(),
                vec![
                    (FIELD_ID, id.to_string()),
                    (FIELD_SUMMARY, summary.clone()),
                    (FIELD_CATEGORY, format!("{tag} {category}")),
                    (FIELD_PATH, literal_path.join(" ")),
                    (FIELD_DESCRIPTION, cut(description.trim(), 1500)),
                    (FIELD_PARAMS, param_names.join(" ")),
                ],
            );
        }
    }
    ops.sort_by(|a, b| a.0.cmp(&b.0));
    for w in ops.windows(2) {
        assert!(w[0].0 != w[1].0, "duplicate operationId {}", w[0].0);
    }
    writeln!(out, "/// Every operation of the spec, sorted by operation id.\npub static OPERATIONS: &[Operation] = &[").ok();
    for (_, l) in &ops {
        writeln!(out, "    {l},").ok();
    }
    out.push_str("];\n");

    search_index(&mut out, &ops, &docs);

    writeln!(out, "/// Every category (one per spec tag), sorted by slug.\npub static CATEGORIES: &[Category] = &[").ok();
    for (slug, tag) in &used_tags {
        writeln!(
            out,
            "    Category {{ slug: {}, tag: {}, description: {} }},",
            lit(slug),
            lit(tag),
            lit(tag_desc.get(tag).map(String::as_str).unwrap_or(""))
        )
        .ok();
    }
    out.push_str("];\n");
    out
}

/// The words that make a property name a candidate secret (issue 17's classification).
const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "passphrase",
    "psk",
    "community",
    "apikey",
    "api_key",
    "token",
    "private_key",
    "auth_key",
    "passwd",
    "credential",
    "key",
];

/// `SECRET_CANDIDATES`: every property name of the spec (at any depth, in components and paths)
/// that contains one of [`SECRET_WORDS`], sorted: each must be classified in `secrets.rs`.
fn secret_candidates(spec: &Value) -> String {
    fn walk(v: &Value, found: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for name in props.keys() {
                        let lower = name.to_ascii_lowercase();
                        if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
                            found.insert(name.clone());
                        }
                    }
                }
                for child in map.values() {
                    walk(child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, found)),
            _ => {}
        }
    }
    let mut found = std::collections::BTreeSet::new();
    walk(spec, &mut found);
    let names: Vec<String> = found.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "\n/// Property names of the spec that look like secrets (generated; classified in `secrets`).\npub const SECRET_CANDIDATES: &[&str] = &[{}];\n",
        names.join(", ")
    )
}
