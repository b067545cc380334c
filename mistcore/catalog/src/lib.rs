//! The operations of the Mist OpenAPI spec, generated at build time into static data: its own
//! crate, so that an edit elsewhere never recompiles the generated tables.
//!
//! Nothing here parses the spec at run time: `build.rs` turns it into the [`OPERATIONS`] and
//! [`CATEGORIES`] tables, so looking an operation up is a binary search and start-up costs
//! nothing.

use std::fmt;

pub mod search;
pub mod secrets;
pub mod text;
mod thesaurus;

/// An HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`: reads, the only methods that are tools by default.
    Get,
    /// `POST`: creates, and also starts device commands and searches some objects.
    Post,
    /// `PUT`: updates.
    Put,
    /// `DELETE`: deletes.
    Delete,
    /// `PATCH` (not used by the current spec, kept for completeness).
    Patch,
}

impl Method {
    /// The method in upper case, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        }
    }

    /// True for methods that change something on the Mist cloud.
    pub fn is_write(self) -> bool {
        self != Method::Get
    }

    /// Parses a method name in any case.
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            "PATCH" => Some(Method::Patch),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A `{name}` segment of the path template.
    Path,
    /// A query-string parameter.
    Query,
}

/// The JSON type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A JSON string.
    String,
    /// A JSON integer.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list, sent as a repeated query parameter.
    Array,
}

impl ParamType {
    /// The JSON Schema name of the type.
    pub fn json_name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Array => "array",
        }
    }
}

/// One path or query parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// The parameter name, as in the spec (`org_id`, `limit`).
    pub name: &'static str,
    /// Path or query.
    pub location: ParamLocation,
    /// Whether the request is invalid without it (always true for path parameters).
    pub required: bool,
    /// The JSON type.
    pub ty: ParamType,
    /// For arrays, the type of the items.
    pub item_ty: Option<ParamType>,
    /// The spec's `format` (`uuid`, `ipv4`), for the value or the array items.
    pub format: Option<&'static str>,
    /// The spec's regular expression for string values, if any.
    pub pattern: Option<&'static str>,
    /// The allowed values, empty when any value of the type is allowed.
    pub enum_values: &'static [&'static str],
    /// The default, as JSON text.
    pub default: Option<&'static str>,
    /// An example value, as JSON text.
    pub example: Option<&'static str>,
    /// Inclusive lower bound of numbers.
    pub minimum: Option<f64>,
    /// Inclusive upper bound of numbers.
    pub maximum: Option<f64>,
    /// The first paragraph of the spec's description.
    pub description: &'static str,
}

/// The request body of a write operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    /// `application/json` or `multipart/form-data`.
    pub content_type: &'static str,
    /// The name of the body's component schema (`site`, `wlan`), when the spec names one.
    pub schema: Option<&'static str>,
    /// Whether the spec marks the body as required.
    pub required: bool,
}

/// One operation of the Mist API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operation {
    /// The spec's operationId, also the name of the tool (`listOrgSites`).
    pub id: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template (`/api/v1/orgs/{org_id}/sites`).
    pub path: &'static str,
    /// The spec tag (`Orgs Sites`).
    pub tag: &'static str,
    /// The category slug derived from the tag (`orgs_sites`).
    pub category: &'static str,
    /// One line saying what the operation does.
    pub summary: &'static str,
    /// The spec's description, trimmed.
    pub description: &'static str,
    /// Path parameters (in template order), then query parameters (required first).
    pub params: &'static [Param],
    /// The request body, for writes.
    pub body: Option<Body>,
    /// What a successful answer holds, from the spec's response schema.
    pub answer: Answer,
}

/// The shape of an operation's successful answer: enough for a model to ask for `fields`
/// before the first call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// A JSON array of records.
    pub list: bool,
    /// The key of an object that holds the records (`results` of searches), if any.
    pub records_in: Option<&'static str>,
    /// The top-level fields of the records (or of the object), at most 80, in spec order,
    /// comma-separated (see [`Answer::fields`]).
    pub field_list: &'static str,
}

impl Answer {
    /// The top-level fields of the records (or of the object).
    pub fn fields(&self) -> impl Iterator<Item = &'static str> {
        self.field_list.split(',').filter(|f| !f.is_empty())
    }
}

impl Operation {
    /// Looks a parameter up by name.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// True when the operation changes something (any method but GET).
    pub fn is_write(&self) -> bool {
        self.method.is_write()
    }
}

/// A group of operations: one spec tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// The slug: the tag lowercased, every non-alphanumeric character turned into `_`.
    pub slug: &'static str,
    /// The spec tag.
    pub tag: &'static str,
    /// The first paragraph of the tag's description.
    pub description: &'static str,
}

impl Category {
    /// The operations of this category, in operation-id order.
    pub fn operations(&self) -> impl Iterator<Item = &'static Operation> + '_ {
        OPERATIONS.iter().filter(move |op| op.category == self.slug)
    }
}

/// A Mist cloud of the spec's `servers` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudHost {
    /// Base URL, `https://api.mist.com`.
    pub url: &'static str,
    /// The spec's name for it, `Mist Global 01`.
    pub name: &'static str,
}

impl CloudHost {
    /// The host name without scheme, `api.mist.com`.
    pub fn host(&self) -> &'static str {
        self.url.trim_start_matches("https://")
    }
}

include!(concat!(env!("OUT_DIR"), "/catalog_data.rs"));

/// The embedded configuration schemas could not be inflated (a broken build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embedded configuration schemas: {0}")]
#[non_exhaustive]
pub struct SchemaDataError(String);

/// The component schemas of [`CONFIG_SCHEMAS`] and all they reference, as one minified JSON
/// object: [`CONFIG_SCHEMA_COMPONENTS_DEFLATED`] inflated (about 0.4 MB; inflate once and keep).
pub fn config_schema_components() -> Result<String, SchemaDataError> {
    let bytes = miniz_oxide::inflate::decompress_to_vec(CONFIG_SCHEMA_COMPONENTS_DEFLATED)
        .map_err(|e| SchemaDataError(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| SchemaDataError(e.to_string()))
}

/// Finds an operation by its exact operationId.
pub fn operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS
        .binary_search_by(|op| op.id.cmp(id))
        .ok()
        .map(|i| &OPERATIONS[i])
}

/// Finds a category by its slug.
pub fn category(slug: &str) -> Option<&'static Category> {
    CATEGORIES
        .binary_search_by(|c| c.slug.cmp(slug))
        .ok()
        .map(|i| &CATEGORIES[i])
}

/// The `n` names of `candidates` closest to `wanted`, best first, for "did you mean" hints.
pub fn closest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| {
            let lc = c.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&wanted, &lc);
            if !wanted.is_empty() && lc.contains(&wanted) {
                score += 0.5;
            }
            (score, c)
        })
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}
