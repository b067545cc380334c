//! `manageMcpTools`: enable and disable categories of operation tools, or list them.

use super::operation_allowed;
use crate::call::ToolError;
use crate::catalog::CATEGORIES;
use crate::session::{CategoryChange, DIAGNOSTICS, Session, WORKFLOWS, resolve_categories};
use serde_json::{Map, Value, json};

/// The tool's description.
pub const DESCRIPTION: &str = "Enable or disable categories of Mist API tools for this session. \
Call it with no argument to list every category with its description and tool count. \
Arguments take category names or glob patterns (sites_*), as a list or comma-separated.";

/// The name of the enabling argument.
pub const ENABLE: &str = "enable_mcp_tools_categories";
/// The name of the disabling argument.
pub const DISABLE: &str = "disable_mcp_tools_categories";

/// The tool's input schema.
pub fn input_schema() -> Value {
    let list = |what: &str| {
        json!({
            "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
            "description": format!("Categories to {what}: names or patterns such as sites_*"),
        })
    };
    json!({
        "type": "object",
        "properties": { ENABLE: list("enable"), DISABLE: list("disable") },
        "additionalProperties": false,
    })
}

/// Reads a list argument given as an array, a JSON array in a string, or a comma-separated string.
fn string_list(args: &Map<String, Value>, name: &str) -> Result<Vec<String>, ToolError> {
    let items = |a: &[Value]| -> Result<Vec<String>, ToolError> {
        a.iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(ToolError::from(format!(
                    "`{name}` must list category names as strings, got {other}"
                ))),
            })
            .collect()
    };
    match args.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => items(a),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('[') {
                match serde_json::from_str::<Value>(t) {
                    Ok(Value::Array(a)) => items(&a),
                    _ => Err(format!("`{name}` holds malformed JSON: {t}").into()),
                }
            } else {
                Ok(t.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect())
            }
        }
        Some(other) => Err(format!(
            "`{name}` must be a list of category names or a comma-separated string, got {other}"
        )
        .into()),
    }
}

/// How many tools a category gives this session.
fn tool_count(session: &Session, slug: &str) -> usize {
    if slug == DIAGNOSTICS {
        return super::diagnostics::ALL.len();
    }
    if slug == crate::session::JUNOS {
        return if session.junos.is_some() {
            crate::junos::ALL
                .iter()
                .filter(|t| !t.is_write() || session.offers_writes())
                .count()
        } else {
            0
        };
    }
    if slug == WORKFLOWS {
        return crate::workflows::all()
            .iter()
            .filter(|w| w.write.is_none() || session.offers_writes())
            .count();
    }
    CATEGORIES
        .iter()
        .find(|c| c.slug == slug)
        .map(|c| {
            c.operations()
                .filter(|op| operation_allowed(session, op).is_ok())
                .count()
        })
        .unwrap_or(0)
}

/// Runs the tool: a listing (no change) or a change of the enabled categories.
///
/// Nothing changes when any name is unknown: the error lists the closest names.
pub fn run(
    session: &Session,
    args: &Map<String, Value>,
) -> Result<(Value, CategoryChange), ToolError> {
    if let Some(extra) = args.keys().find(|k| *k != ENABLE && *k != DISABLE) {
        return Err(
            format!("unknown argument `{extra}`; accepted arguments: {ENABLE}, {DISABLE}").into(),
        );
    }
    let enable = string_list(args, ENABLE)?;
    let disable = string_list(args, DISABLE)?;
    if enable.is_empty() && disable.is_empty() {
        return Ok((listing(session), CategoryChange::default()));
    }
    let enable = resolve_categories(&enable).map_err(|e| e.to_string())?;
    let disable = resolve_categories(&disable).map_err(|e| e.to_string())?;
    if session.client.sessionless {
        return Err(sessionless_refusal(&enable).into());
    }

    let mut after = session.clone();
    let change = CategoryChange {
        enable: enable.clone(),
        disable: disable.clone(),
    };
    after.apply(&change);
    let newly_enabled: Vec<&str> = enable
        .iter()
        .copied()
        .filter(|c| !session.enabled.contains(c) && after.enabled.contains(c))
        .collect();
    let already: Vec<&str> = enable
        .iter()
        .copied()
        .filter(|c| session.enabled.contains(c))
        .collect();
    let newly_disabled: Vec<&str> = disable
        .iter()
        .copied()
        .filter(|c| session.enabled.contains(c))
        .collect();
    let without_tools: Vec<&str> = newly_enabled
        .iter()
        .copied()
        .filter(|c| tool_count(session, c) == 0)
        .collect();
    let listed = super::visible(&after).len();
    let mut answer = json!({
        "enabled": newly_enabled,
        "already_enabled": already,
        "disabled": newly_disabled,
        "active_categories": after.enabled.iter().collect::<Vec<_>>(),
        "tools_listed": listed,
    });
    if !without_tools.is_empty() {
        answer["note"] = json!(format!(
            "{} hold only write operations, which this session does not offer (--enable-write-tools and a client with elicitation)",
            without_tools.join(", ")
        ));
    } else if !newly_enabled.is_empty() || !newly_disabled.is_empty() {
        answer["note"] = json!(if session.mode.has_discovery() {
            "The tool list changed. If the new tools do not appear, call them through mist_call_operation."
        } else {
            "The tool list changed."
        });
    }
    Ok((answer, change))
}

/// Why a sessionless client (protocol 2026-07-28) cannot enable categories, and how it reaches
/// their tools instead: nothing is kept between its requests, so claiming a change would only
/// send it in a loop.
pub fn sessionless_refusal(categories: &[&str]) -> String {
    let query = if categories.is_empty() {
        "orgs_sites".to_string()
    } else {
        categories.join(",")
    };
    format!(
        "nothing was changed: this client speaks MCP protocol 2026-07-28, which has no sessions, so categories cannot be enabled for later requests. \
Call any operation now through {} {{\"operation_id\": \"listOrgSites\", \"arguments\": {{...}}}} (find it with {}), \
or reconnect with the URL query `categories={query}` (HTTP) to have these tools listed on every request.",
        super::CALL_OPERATION,
        super::SEARCH_OPERATIONS,
    )
}

fn listing(session: &Session) -> Value {
    let mut categories = vec![
        json!({
            "name": WORKFLOWS,
            "tools": tool_count(session, WORKFLOWS),
            "description": "The official Mist MCP server's workflow tools (mist_get_self, mist_search_device, ...): few tools, each covering many operations",
            "enabled": session.enabled.contains(WORKFLOWS),
        }),
        json!({
            "name": DIAGNOSTICS,
            "tools": tool_count(session, DIAGNOSTICS),
            "description": "mistmcp's diagnostics: the token's security analysis, the service's health, a connectivity test, a read-only shell command on a Junos device",
            "enabled": session.enabled.contains(DIAGNOSTICS),
        }),
    ];
    if session.junos.is_some() {
        categories.push(json!({
            "name": crate::session::JUNOS,
            "tools": tool_count(session, crate::session::JUNOS),
            "description": "Junos devices of the inventory, directly over NETCONF/SSH: junos-mcp-server's tools (get_router_list, execute_junos_command, get_junos_config, load_and_commit_config, ...)",
            "enabled": session.enabled.contains(crate::session::JUNOS),
        }));
    }
    let mut write_only = 0;
    for c in CATEGORIES {
        let tools = tool_count(session, c.slug);
        if tools == 0 {
            write_only += 1;
            continue;
        }
        let mut entry = json!({ "name": c.slug, "tools": tools, "description": c.description });
        if session.is_enabled(c) {
            entry["enabled"] = json!(true);
        }
        categories.push(entry);
    }
    let usage = if session.client.sessionless {
        format!(
            "this client (protocol 2026-07-28) has no session: reach these tools through {}, or connect with the URL query `categories=orgs_sites,...`",
            super::CALL_OPERATION
        )
    } else {
        format!(
            "{{\"{ENABLE}\": [\"orgs_sites\", \"sites_*\"]}} enables categories; {DISABLE} disables them"
        )
    };
    json!({
        "mode": session.mode.as_str(),
        "enabled": session.enabled.iter().collect::<Vec<_>>(),
        "categories": categories,
        "write_only_categories_not_shown": write_only,
        "usage": usage,
    })
}
