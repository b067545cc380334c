//! Every branch of every workflow resolves to an operation of the catalog whose parameters
//! accept the planned arguments.

use mistcore::call::ToolError;
use mistcore::catalog::operation;
use mistcore::schema::validate;
use mistcore::workflows::{self, Args, Source};
use serde_json::{Map, Value, json};

const UUID: &str = "6748cfa6-4e12-11e6-9188-0242ac110007";

fn sample(prop: &Value) -> Value {
    if let Some(e) = prop["enum"].as_array() {
        return e[0].clone();
    }
    match prop["type"].as_str() {
        Some("integer") => json!(10),
        Some("boolean") => json!(true),
        Some("array") => json!(["a"]),
        Some("object") => json!({"name": "x"}),
        _ if prop["format"] == "uuid" => json!(UUID),
        _ => json!("5c5b350e0001"),
    }
}

/// The required argument names of a workflow's schema.
fn required_of(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn every_branch_plans_a_valid_operation_call() {
    let mut planned = 0;
    let mut ops = std::collections::BTreeSet::new();
    for w in workflows::all() {
        let schema = (w.schema)();
        let props = schema["properties"].as_object().expect("properties");
        let required = required_of(&schema);
        // Vary each enum over its values, with the required arguments and then with every argument.
        for (name, prop) in props {
            let Some(values) = prop["enum"].as_array() else {
                continue;
            };
            for value in values {
                for everything in [false, true] {
                    let mut args = Map::new();
                    for (n, p) in props {
                        if required.contains(&n.as_str())
                            || (everything
                                && [
                                    "site_id",
                                    "object_id",
                                    "mac",
                                    "metric",
                                    "classifier",
                                    "device_id",
                                    "band",
                                    "upgrade_id",
                                ]
                                .contains(&n.as_str()))
                        {
                            args.insert(n.clone(), sample(p));
                        }
                    }
                    args.insert(name.clone(), value.clone());
                    workflows::check(&schema, &args)
                        .unwrap_or_else(|e| panic!("{} {args:?}: {e}", w.name));
                    let Source::Api(plan) = w.source else {
                        continue;
                    };
                    let Ok(plan) = plan(&Args(&args)) else {
                        continue;
                    };
                    let op = operation(plan.operation)
                        .unwrap_or_else(|| panic!("{}: no operation {}", w.name, plan.operation));
                    if let Err(e) = validate(op, &plan.args) {
                        // A value the operation's own enum refuses is a fair answer; a parameter it lacks is a bug.
                        assert!(
                            !e.problem.contains("unknown argument")
                                && !e.problem.contains("missing"),
                            "{} {args:?} -> {}: {e}",
                            w.name,
                            op.id
                        );
                    }
                    assert_eq!(op.is_write(), w.write.is_some(), "{} -> {}", w.name, op.id);
                    planned += 1;
                    ops.insert(op.id);
                }
            }
        }
    }
    eprintln!(
        "{planned} branches planned, {} distinct operations",
        ops.len()
    );
    assert!(planned > 250, "{planned} branches planned");
    assert!(ops.len() > 150, "{} distinct operations", ops.len());
}

#[test]
fn device_ids_and_name_filters() {
    assert_eq!(
        workflows::device_id_from_mac("5C:5B:35:0E:00:01").as_deref(),
        Some("00000000-0000-0000-1000-5c5b350e0001")
    );
    let body = json!({"results": [{"mac": "5c5b350e0001"}, {"mac": "aabbccddeeff", "vc_mac": "001122334455"}]});
    let out = workflows::apply(&workflows::After::DeviceIds, body);
    assert_eq!(
        out["results"][0]["device_id"],
        "00000000-0000-0000-1000-5c5b350e0001"
    );
    assert_eq!(
        out["results"][1]["device_id"],
        "00000000-0000-0000-1000-001122334455"
    );

    let list =
        json!([{"name": "HQ-core", "id": 1, "x": 1}, {"name": "branch", "id": 2}, {"id": 3}]);
    let f = |pattern: Option<&str>, summary| workflows::After::Filter {
        attr: "name",
        pattern: pattern.map(str::to_string),
        limit: Some(10),
        summary,
    };
    assert_eq!(
        workflows::apply(&f(Some("core"), false), list.clone()),
        json!([{"name": "HQ-core", "id": 1, "x": 1}])
    );
    assert_eq!(
        workflows::apply(&f(Some("hq*"), false), list.clone())
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        workflows::apply(&f(None, true), list),
        json!([{"name": "HQ-core", "id": 1}, {"name": "branch", "id": 2}])
    );
}

#[test]
fn next_page_paths_stay_on_the_cloud() {
    let creds = mistcore::api::Credentials {
        token: None,
        base: url::Url::parse("https://api.mist.com").expect("url"),
    };
    let (op, rel) = mistcore::api::next_page_target(
        &creds,
        &format!("/api/v1/orgs/{UUID}/devices/search?limit=5&search_after=abc"),
    )
    .expect("search next");
    assert_eq!(op.id, "searchOrgDevices");
    assert!(rel.ends_with("search_after=abc"));
    assert!(
        mistcore::api::next_page_target(
            &creds,
            &format!("https://api.mist.com/api/v1/orgs/{UUID}/sites?page=2")
        )
        .is_ok()
    );
    for bad in [
        "https://evil.example/api/v1/self",
        "http://api.mist.com/api/v1/self",
        "//evil.example/api/v1/self",
        "/api/v1/../../x",
        "/api/v1/orgs/%2e%2e/sites",
        "/internal/admin",
        "javascript:alert(1)",
    ] {
        let err = mistcore::api::next_page_target(&creds, bad).expect_err(bad);
        assert!(err.0.starts_with("refused"), "{bad}: {err}");
    }
}

/// The values of the other enums to try beside one value: every combination while there are
/// few, else each other enum varied alone.
fn combinations(enums: &[(&String, &Vec<Value>)], skip: &str) -> Vec<Map<String, Value>> {
    let others: Vec<_> = enums.iter().filter(|(n, _)| n.as_str() != skip).collect();
    let total: usize = others.iter().map(|(_, v)| v.len()).product();
    if total <= 4096 {
        let mut combos = vec![Map::new()];
        for (name, values) in &others {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert((*name).clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        return combos;
    }
    let mut combos = vec![Map::new()];
    for (name, values) in &others {
        for v in *values {
            combos.push(Map::from_iter([((*name).clone(), v.clone())]));
        }
    }
    combos
}

/// Every value a workflow offers in an enum can be used: some call with it plans an operation
/// that accepts the planned arguments (or answers locally). A value that every combination
/// refuses is a promise the tool cannot keep.
#[test]
fn every_offered_enum_value_can_be_used() {
    let optional = [
        "org_id",
        "site_id",
        "object_id",
        "mac",
        "metric",
        "classifier",
        "device_id",
        "band",
        "upgrade_id",
        "scope_id",
        "device_type",
        "payload",
    ];
    let mut unusable = Vec::new();
    for w in workflows::all() {
        let schema = (w.schema)();
        let props = schema["properties"].as_object().expect("properties");
        let required = required_of(&schema);
        // Optional enums may also be left out (`null` stands for that here).
        let choices: Vec<(&String, Vec<Value>)> = props
            .iter()
            .filter_map(|(n, p)| {
                let mut values = p["enum"].as_array()?.clone();
                if !required.contains(&n.as_str()) {
                    values.push(Value::Null);
                }
                Some((n, values))
            })
            .collect();
        let enums: Vec<(&String, &Vec<Value>)> = choices.iter().map(|(n, v)| (*n, v)).collect();
        // Which optional arguments go with the required ones: none, each alone, all.
        let present: Vec<&str> = optional
            .iter()
            .copied()
            .filter(|o| props.contains_key(*o) && !required.contains(o))
            .collect();
        let mut extras: Vec<Vec<&str>> = vec![Vec::new(), present.clone()];
        extras.extend(present.iter().map(|o| vec![*o]));
        for (name, values) in &enums {
            for value in values.iter().filter(|v| !v.is_null()) {
                let mut why = String::new();
                let usable = extras.iter().any(|extra| {
                    [false, true].into_iter().any(|uuid_strings| {
                        combinations(&enums, name).into_iter().any(|others| {
                            let mut args = Map::new();
                            for (n, p) in props {
                                if required.contains(&n.as_str()) || extra.contains(&n.as_str()) {
                                    let v = match sample(p) {
                                        Value::String(_)
                                            if uuid_strings && p.get("enum").is_none() =>
                                        {
                                            json!(UUID)
                                        }
                                        v => v,
                                    };
                                    args.insert(n.clone(), v);
                                }
                            }
                            args.extend(others.into_iter().filter(|(_, v)| !v.is_null()));
                            args.insert((*name).clone(), value.clone());
                            let outcome: Result<(), ToolError> = workflows::check(&schema, &args)
                                .and_then(|()| match w.source {
                                    Source::Api(plan) => plan(&Args(&args)).and_then(|plan| {
                                        let op = operation(plan.operation).ok_or_else(|| {
                                            ToolError::from(format!(
                                                "no operation {}",
                                                plan.operation
                                            ))
                                        })?;
                                        validate(op, &plan.args)
                                            .map(|_| ())
                                            .map_err(|e| ToolError::from(format!("{}: {e}", op.id)))
                                    }),
                                    Source::Local(answer) => answer(&Args(&args)).map(|_| ()),
                                    Source::Utilities => {
                                        workflows::utilities::plan(&Args(&args)).map(|_| ())
                                    }
                                    Source::NextPage => Ok(()),
                                });
                            outcome.map_err(|e| why = e.message).is_ok()
                        })
                    })
                });
                if !usable {
                    unusable.push(format!("{} {name}={value}: {why}", w.name));
                }
            }
        }
    }
    assert!(
        unusable.is_empty(),
        "offered values no call can use:\n{}",
        unusable.join("\n")
    );
}
