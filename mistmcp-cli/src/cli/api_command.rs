//! `mistcli api [METHOD] PATH`, as `gh api`: any path of the catalog, with `-f key=value` query
//! fields, `--input` for a body and `--paginate`; it runs through the same steps as every other
//! command (argument checks, the write gate, the token's own cloud).

use super::{Ctx, Failure, execute};
use clap::{Arg, ArgAction, ArgMatches};
use mistcore::api;
use mistcore::catalog::{self, Method, ParamLocation, ParamType};
use serde_json::{Map, json};
use std::io::Write;

/// The clap command.
pub fn command() -> clap::Command {
    clap::Command::new("api")
        .about("Call any API path, as gh api: mistcli api [METHOD] PATH")
        .arg(
            Arg::new("words")
                .num_args(1..=2)
                .required(true)
                .value_names(["METHOD", "PATH"])
                .help("GET (default), POST, PUT or DELETE, then the path: /api/v1/orgs/{org_id}/sites"),
        )
        .arg(
            Arg::new("method")
                .short('X')
                .long("method")
                .value_name("METHOD")
                .help("The method, as gh api -X (instead of the first word)"),
        )
        .arg(
            Arg::new("field")
                .short('f')
                .long("field")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .help("A query field of the operation (repeat the flag for more)"),
        )
        .arg(
            Arg::new("input")
                .long("input")
                .value_name("FILE|-")
                .help("The request body, JSON, from a file or - for stdin"),
        )
        .after_help(
            "{org_id}, {site_id} and {msp_id} in PATH are filled from --org (or the default org), --site and --msp; \
             `api/v1/` may be left out. The path must be one of the Mist API's (mistcli ops search finds them). \
             Writes ask first, as every command does (--yes in scripts).\n\
             Example: mistcli api /api/v1/orgs/{org_id}/devices/search -f type=switch --paginate",
        )
}

/// Runs `mistcli api`.
pub async fn run(
    sub: &ArgMatches,
    global: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let words: Vec<&str> = sub
        .get_many::<String>("words")
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let parse = |method: &str| {
        Method::parse(&method.to_ascii_uppercase()).ok_or_else(|| {
            Failure::usage(format!(
                "`{method}` is not a method: GET, POST, PUT or DELETE"
            ))
        })
    };
    let flag = sub.get_one::<String>("method");
    let (method, raw_path) = match (words.as_slice(), flag) {
        ([path], None) => (Method::Get, *path),
        ([path], Some(method)) => (parse(method)?, *path),
        ([method, path], None) => (parse(method)?, *path),
        ([_, _], Some(_)) => {
            return Err(Failure::usage(
                "the method is given twice: use -X METHOD or `mistcli api METHOD PATH`",
            ));
        }
        _ => return Err(Failure::usage("mistcli api [METHOD] PATH")),
    };
    let (path, query) = raw_path.split_once('?').unwrap_or((raw_path, ""));
    let path = normalized(path);
    let mut ctx = Ctx::new(global)?;
    let path = fill_placeholders(&mut ctx, &path).await?;
    if !api::is_plain_path(&path) {
        return Err(Failure::usage(format!(
            "`{path}` is not a plain /api/v1/ path"
        )));
    }
    let (op, values) =
        api::operation_for_path(method, &path).ok_or_else(|| no_operation(method, &path))?;
    let mut args = Map::new();
    for (name, value) in values {
        args.insert(name.to_string(), json!(value));
    }
    let query_fields = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>();
    let flag_fields = sub
        .get_many::<String>("field")
        .into_iter()
        .flatten()
        .cloned();
    for kv in query_fields.into_iter().chain(flag_fields) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("-f `{kv}` is not KEY=VALUE")))?;
        // A query field only: `-f site_id=...` must not replace an id of the path, which is
        // the object the user named (and the one a write's confirmation shows).
        let is_query = |p: &&mistcore::catalog::Param| p.location == ParamLocation::Query;
        let param = op.param(k).filter(is_query).ok_or_else(|| {
            let known: Vec<&str> = op.params.iter().filter(is_query).map(|p| p.name).collect();
            Failure::usage(format!(
                "{} {} takes no field `{k}`; its fields: {}",
                op.method,
                op.path,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let value = match param.ty {
            ParamType::Array => json!(v.split(',').collect::<Vec<_>>()),
            _ => json!(v),
        };
        args.insert(param.name.to_string(), value);
    }
    let body = sub
        .get_one::<String>("input")
        .map(|f| if f == "-" { f.clone() } else { format!("@{f}") });
    if op.body.is_none() && body.is_some() {
        return Err(Failure::usage(format!(
            "{} {} takes no body: leave out --input",
            op.method, op.path
        )));
    }
    execute(&mut ctx, op, args, body.as_ref(), out).await
}

/// `orgs/x/sites` and `api/v1/orgs/x/sites` are `/api/v1/orgs/x/sites`.
fn normalized(path: &str) -> String {
    let trimmed = path.trim().trim_start_matches('/');
    if trimmed.starts_with("api/") {
        format!("/{trimmed}")
    } else {
        format!("/api/v1/{trimmed}")
    }
}

/// `{org_id}`, `{site_id}` and `{msp_id}` filled from the global flags (and the default org),
/// each value percent-encoded as one segment: an id with a `/` or `?` cannot reach another path.
async fn fill_placeholders(ctx: &mut Ctx, path: &str) -> Result<String, Failure> {
    let segment = |v: &str| api::encode_segment(v);
    let mut path = path.to_string();
    if path.contains("{org_id}") {
        let org = ctx.org_id().await?;
        path = path.replace("{org_id}", &segment(&org));
    }
    for (placeholder, value, flag) in [
        ("{site_id}", ctx.site.clone(), "--site"),
        ("{msp_id}", ctx.msp.clone(), "--msp"),
    ] {
        if path.contains(placeholder) {
            let value =
                value.ok_or_else(|| Failure::usage(format!("{placeholder} needs {flag} <id>")))?;
            path = path.replace(placeholder, &segment(&value));
        }
    }
    if let Some(start) = path.find('{') {
        let rest = &path[start..];
        let name = rest.split('}').next().unwrap_or(rest);
        return Err(Failure::usage(format!(
            "`{name}}}` in the path is not filled in: put the id itself there"
        )));
    }
    Ok(path)
}

/// The error for a path no operation has: the methods the path does take, or the closest paths.
fn no_operation(method: Method, path: &str) -> Failure {
    let methods: Vec<&str> = [Method::Get, Method::Post, Method::Put, Method::Delete]
        .into_iter()
        .filter(|m| *m != method && api::operation_for_path(*m, path).is_some())
        .map(Method::as_str)
        .collect();
    if !methods.is_empty() {
        return Failure::usage(format!(
            "{path} does not take {method}; it takes {}",
            methods.join(", ")
        ));
    }
    let mut paths: Vec<&str> = catalog::OPERATIONS.iter().map(|o| o.path).collect();
    paths.sort_unstable();
    paths.dedup();
    let near = catalog::closest(path, paths.into_iter(), 3);
    Failure::usage(format!(
        "no Mist operation is {method} {path}{}; `mistcli ops search <words>` finds one",
        if near.is_empty() {
            String::new()
        } else {
            format!(" (closest paths: {})", near.join(", "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalized("orgs/x/sites"), "/api/v1/orgs/x/sites");
        assert_eq!(normalized("/api/v1/self"), "/api/v1/self");
        assert_eq!(normalized("api/v1/self"), "/api/v1/self");
    }

    #[test]
    fn a_path_finds_its_operation_and_values() {
        let (op, values) =
            api::operation_for_path(Method::Get, "/api/v1/orgs/o-1/devices/search").expect("op");
        assert_eq!(op.id, "searchOrgDevices");
        assert_eq!(values, vec![("org_id", "o-1".to_string())]);
        let (op, _) =
            api::operation_for_path(Method::Delete, "/api/v1/sites/s/wlans/w").expect("op");
        assert_eq!(op.id, "deleteSiteWlan");
        assert!(api::operation_for_path(Method::Get, "/api/v1/nowhere").is_none());
    }
}
