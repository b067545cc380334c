//! jq filters over answers (the `jq` argument of tools, `mistcli --jq`), evaluated by jaq with a
//! budget, the same natively and on the edge.
//!
//! A filter comes from outside (a model, a script), so it is held to three bounds:
//! - **what it may name**: no definitions of its own (`def`), no unbounded generators (`range`,
//!   `repeat`, `while`, `until`, `recurse(f)`), nothing of the process (`env`, `$ENV`, `input`,
//!   `halt`, `debug`, `stderr`, `now`, local time, modules), nesting at most [`MAX_DEPTH`];
//! - **work**: every step on a value (iterating, indexing, arithmetic, building objects; big strings
//!   and arrays by their size) spends from [`Budget::steps`]; when it is spent the filter fails at
//!   once, so loops and cartesian products are cut, on wasm32 too (no thread, no clock);
//! - **output**: at most [`Budget::outputs`] values and [`Budget::bytes`] bytes of JSON.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::path::Opt;
use jaq_core::{Compiler, Ctx, Exn, Vars, data::JustLut};
use jaq_json::Val;
use serde_json::Value;
use std::cell::Cell;
use std::fmt;

/// The most nesting of parentheses, brackets and braces in a filter.
pub const MAX_DEPTH: usize = 64;
/// The longest filter, in bytes.
pub const MAX_FILTER_BYTES: usize = 4096;

/// What one run of a filter may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Steps on values (about a microsecond each).
    pub steps: u64,
    /// Values the filter may output.
    pub outputs: usize,
    /// Bytes of JSON the outputs may take together.
    pub bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            steps: 5_000_000,
            outputs: 100_000,
            bytes: 16 << 20,
        }
    }
}

/// Why a filter did not give its answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JqError {
    /// The filter cannot be read.
    #[error("jq filter: {message} at line {line}, column {column}")]
    Syntax {
        /// What is wrong.
        message: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
    },
    /// The filter names something it may not.
    #[error("jq filter: {what} at line {line}, column {column}")]
    Refused {
        /// What is refused, and why.
        what: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The filter failed on this input (an `error`, a type mismatch).
    #[error("jq filter failed: {0}")]
    Failed(String),
    /// The filter spent its budget.
    #[error("jq filter stopped: {0}; narrow it (select fewer records, drop nested iterations)")]
    OverBudget(String),
}

/// A filter, read and checked, ready to run.
pub struct Filter {
    compiled: jaq_core::Filter<JustLut<Fueled>>,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter").finish_non_exhaustive()
    }
}

/// Names a filter may not use, and why.
const REFUSED: &[(&str, &str)] = &[
    ("def", "definitions of its own are not allowed"),
    ("import", "modules are not allowed"),
    ("include", "modules are not allowed"),
    ("label", "labels are not allowed"),
    (
        "range",
        "`range` is not allowed: iterate the answer instead",
    ),
    ("repeat", "`repeat` is not allowed: filters must end"),
    ("while", "`while` is not allowed: filters must end"),
    ("until", "`until` is not allowed: filters must end"),
    (
        "env",
        "`env` is not allowed: the process environment is not for filters",
    ),
    (
        "$ENV",
        "`$ENV` is not allowed: the process environment is not for filters",
    ),
    ("$__loc__", "`$__loc__` is not allowed"),
    (
        "input",
        "`input` is not allowed: a filter reads only the answer",
    ),
    (
        "inputs",
        "`inputs` is not allowed: a filter reads only the answer",
    ),
    ("input_filename", "`input_filename` is not allowed"),
    ("halt", "`halt` is not allowed"),
    ("halt_error", "`halt_error` is not allowed"),
    ("debug", "`debug` is not allowed"),
    ("stderr", "`stderr` is not allowed"),
    ("now", "`now` is not allowed"),
    ("localtime", "`localtime` is not allowed"),
    ("strflocaltime", "`strflocaltime` is not allowed"),
];

/// Natives of jaq's library left out: the environment, the clock, the process, logs.
const PROCESS_NATIVES: &[&str] = &[
    "env",
    "now",
    "halt",
    "debug_empty",
    "stderr_empty",
    "localtime",
    "strflocaltime",
];

/// Definitions of jaq's library over those natives, left out with them.
const PROCESS_DEFS: &[&str] = &["stderr", "debug", "halt", "halt_error"];

/// Names refused only with arguments (`recurse` alone walks the answer once; `recurse(f)` may
/// never end).
const REFUSED_WITH_ARGUMENTS: &[&str] = &["recurse"];

impl Filter {
    /// Reads and checks `text`.
    pub fn new(text: &str) -> Result<Filter, JqError> {
        if text.len() > MAX_FILTER_BYTES {
            return Err(JqError::Refused {
                what: format!("the filter is over {MAX_FILTER_BYTES} bytes"),
                line: 1,
                column: 1,
            });
        }
        check_names(text)?;
        Self::compile(text)
    }

    /// Compiles `text` with the library, without the name check (the check is [`Filter::new`]'s).
    fn compile(text: &str) -> Result<Filter, JqError> {
        let arena = Arena::default();
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .filter(|def| !PROCESS_DEFS.contains(&def.name));
        // Behind the name check, the natives that reach the process are not even there.
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .filter(|(name, _, _)| !PROCESS_NATIVES.contains(name))
            .chain(value_funs());
        let loader = Loader::new(defs);
        let modules = loader
            .load(
                &arena,
                File {
                    code: text,
                    path: (),
                },
            )
            .map_err(|errors| load_error(text, errors))?;
        let compiled = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let (what, name) = errors
                    .into_iter()
                    .flat_map(|(_, errs)| errs)
                    .next()
                    .map(|(name, undefined)| (undefined.as_str(), name))
                    .unwrap_or(("name", ""));
                let (line, column) = position(text, name);
                JqError::Syntax {
                    message: format!("unknown {what} `{name}`"),
                    line,
                    column,
                }
            })?;
        Ok(Filter { compiled })
    }

    /// Runs the filter on `input` within `budget`: its outputs.
    pub fn run(&self, input: &Value, budget: Budget) -> Result<Vec<Value>, JqError> {
        let value: Val = serde_json::from_value(input.clone())
            .map_err(|e| JqError::Failed(format!("the answer is not JSON jq reads: {e}")))?;
        FUEL.with(|f| f.set(budget.steps));
        let ctx = Ctx::<JustLut<Fueled>>::new(&self.compiled.lut, Vars::new([]));
        let mut outputs = Vec::new();
        let mut bytes = 0usize;
        let over = |what: String| -> JqError {
            FUEL.with(|f| f.set(0));
            JqError::OverBudget(what)
        };
        for output in self.compiled.id.run((ctx, Fueled(value))) {
            let spent = FUEL.with(Cell::get) == 0;
            let output = match output {
                Ok(v) => v,
                Err(_) if spent => {
                    return Err(over(format!("over its budget of {} steps", budget.steps)));
                }
                Err(e) => return Err(JqError::Failed(exn_text(e))),
            };
            if outputs.len() == budget.outputs {
                return Err(over(format!(
                    "over its budget of {} outputs",
                    budget.outputs
                )));
            }
            let json = output.0.to_string();
            bytes += json.len();
            if bytes > budget.bytes {
                return Err(over(format!(
                    "over its budget of {} bytes of output",
                    budget.bytes
                )));
            }
            outputs.push(
                serde_json::from_str(&json)
                    .map_err(|e| JqError::Failed(format!("an output is not JSON: {e}")))?,
            );
        }
        if FUEL.with(Cell::get) == 0 {
            return Err(over(format!("over its budget of {} steps", budget.steps)));
        }
        Ok(outputs)
    }
}

/// The text of a failure.
fn exn_text(e: Exn<'_, Fueled>) -> String {
    match e.get_err() {
        Ok(error) => error.to_string(),
        Err(other) => format!("{other:?}").chars().take(200).collect(),
    }
}

/// The 1-based line and column of `at`, a slice of `text` (the end when it is not one).
fn position(text: &str, at: &str) -> (usize, usize) {
    let start = text.as_ptr() as usize;
    let offset = (at.as_ptr() as usize)
        .checked_sub(start)
        .filter(|o| *o <= text.len())
        .unwrap_or(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first error of a load, with its place.
fn load_error(text: &str, errors: jaq_core::load::Errors<&str, ()>) -> JqError {
    use jaq_core::load::Error;
    let first = errors.into_iter().map(|(_, e)| e).next();
    let (message, at) = match first {
        Some(Error::Lex(errs)) => errs
            .into_iter()
            .next()
            .map(|(expect, at)| (format!("expected {}", expect.as_str()), at))
            .unwrap_or_default(),
        Some(Error::Parse(errs)) => errs
            .into_iter()
            .next()
            .map(|(expect, at)| {
                let found = if at.is_empty() {
                    "the end".to_string()
                } else {
                    format!("`{}`", at.chars().take(20).collect::<String>())
                };
                (
                    format!("expected {} but found {found}", expect.as_str()),
                    at,
                )
            })
            .unwrap_or_default(),
        Some(Error::Io(errs)) => errs
            .into_iter()
            .next()
            .map(|(at, e)| (format!("cannot load: {e}"), at))
            .unwrap_or_default(),
        None => ("cannot read the filter".to_string(), ""),
    };
    let (line, column) = position(text, at);
    JqError::Syntax {
        message,
        line,
        column,
    }
}

/// Refuses the names of [`REFUSED`] and too deep nesting, outside string literals (the code of
/// interpolations `\(...)` is checked too).
fn check_names(text: &str) -> Result<(), JqError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let refuse = |at: usize, what: String| {
        let (line, column) = position(text, &text[at..]);
        Err(JqError::Refused { what, line, column })
    };
    // Open brackets, and string literals with the bracket depth of their interpolations.
    let mut depth = 0usize;
    let mut strings: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if let Some(&open) = strings.last()
            && open == usize::MAX
        {
            // Inside a string literal.
            match c {
                '\\' if chars.get(i + 1).map(|x| x.1) == Some('(') => {
                    strings.push(depth);
                    depth += 1;
                    i += 2;
                    continue;
                }
                '\\' => i += 1,
                '"' => {
                    strings.pop();
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            '"' => strings.push(usize::MAX),
            '#' => {
                while i < chars.len() && chars[i].1 != '\n' {
                    i += 1;
                }
                continue;
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return refuse(at, format!("nesting over {MAX_DEPTH} levels"));
                }
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                if c == ')' && strings.last() == Some(&depth) {
                    // The end of an interpolation: back into its string (the marker below).
                    strings.pop();
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                let mut end = i + 1;
                while end < chars.len()
                    && (chars[end].1.is_ascii_alphanumeric() || chars[end].1 == '_')
                {
                    end += 1;
                }
                let word: String = chars[start..end].iter().map(|x| x.1).collect();
                let field = start > 0 && matches!(chars[start - 1].1, '.' | '@');
                let key = chars[end..]
                    .iter()
                    .find(|x| !x.1.is_whitespace())
                    .is_some_and(|x| x.1 == ':');
                if !field && !key {
                    if let Some((_, why)) = REFUSED.iter().find(|(name, _)| *name == word) {
                        return refuse(at, why.to_string());
                    }
                    let call = chars[end..]
                        .iter()
                        .find(|x| !x.1.is_whitespace())
                        .is_some_and(|x| x.1 == '(');
                    if call && REFUSED_WITH_ARGUMENTS.contains(&word.as_str()) {
                        return refuse(
                            at,
                            format!(
                                "`{word}(...)` is not allowed: filters must end (`..` walks the answer)"
                            ),
                        );
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The natives of `jaq_json` (which exist only for its own value type), for [`Fueled`]:
/// `length`, `has`, `contains`, `indices`, `tojson`, `fromjson`.
fn value_funs() -> impl Iterator<Item = jaq_core::native::Fun<JustLut<Fueled>>> {
    use jaq_core::native::{Filter as Native, bome, run, unary, v};
    let funs: [Native<jaq_core::RunPtr<JustLut<Fueled>>>; 6] = [
        ("length", v(0), |cv| bome(length(&cv.1.0).map(Fueled))),
        ("has", v(1), |cv| {
            unary(cv, |x, k| has(&x.0, &k.0).map(|b| Fueled(Val::from(b))))
        }),
        ("contains", v(1), |cv| {
            unary(cv, |x, y| {
                spend(size(&x.0) + size(&y.0))?;
                Ok(Fueled(Val::from(contains(&x.0, &y.0))))
            })
        }),
        ("indices", v(1), |cv| {
            unary(cv, |x, y| {
                spend(size(&x.0).saturating_mul(size(&y.0)))?;
                indices(&x.0, &y.0).map(Fueled)
            })
        }),
        ("tojson", v(0), |cv| {
            bome(spend(size(&cv.1.0)).map(|()| Fueled(Val::utf8_str(cv.1.0.to_string()))))
        }),
        ("fromjson", v(0), |cv| {
            bome(match &cv.1.0 {
                Val::TStr(b) | Val::BStr(b) => spend(b.len() as u64).and_then(|()| {
                    jaq_json::read::parse_single(b)
                        .map(Fueled)
                        .map_err(|e| jaq_core::Error::str(format!("cannot parse as JSON: {e}")))
                }),
                other => Err(jaq_core::Error::str(format!(
                    "cannot parse {other} as JSON"
                ))),
            })
        }),
    ];
    // A closure, not `run` itself: the array's name type is fixed to 'static there.
    #[allow(clippy::redundant_closure)]
    funs.into_iter().map(|f| run::<JustLut<Fueled>>(f))
}

type FR = Result<Val, jaq_core::Error<Fueled>>;

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// jq's `length`: characters of a string, items of an array or object, absolute value of a number.
fn length(v: &Val) -> FR {
    Ok(match v {
        Val::Null => Val::from(0isize),
        Val::Bool(_) => return Err(jaq_core::Error::str("a boolean has no length")),
        Val::Num(_) => Val::from(jaq_std::ValT::as_f64(v).unwrap_or_default().abs()),
        Val::TStr(b) => Val::from(text(b).chars().count()),
        Val::BStr(b) => Val::from(b.len()),
        Val::Arr(a) => Val::from(a.len()),
        Val::Obj(o) => Val::from(o.len()),
    })
}

/// jq's `has(k)`: a key of an object, an index of an array.
fn has(v: &Val, k: &Val) -> Result<bool, jaq_core::Error<Fueled>> {
    match (v, k) {
        (Val::Obj(o), Val::TStr(_) | Val::BStr(_)) => Ok(o.contains_key(k)),
        (Val::Arr(a), Val::Num(_)) => {
            Ok(jaq_std::ValT::as_isize(k).is_some_and(|i| i >= 0 && (i as usize) < a.len()))
        }
        _ => Err(jaq_core::Error::str(format!(
            "cannot check whether {v} has {k}"
        ))),
    }
}

/// jq's `contains(b)`: substrings, every item of `b` in some item, objects key by key.
fn contains(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::TStr(x) | Val::BStr(x), Val::TStr(y) | Val::BStr(y)) => {
            y.is_empty() || x.windows(y.len()).any(|w| w == &y[..])
        }
        (Val::Arr(x), Val::Arr(y)) => y.iter().all(|yi| x.iter().any(|xi| contains(xi, yi))),
        (Val::Obj(x), Val::Obj(y)) => y
            .iter()
            .all(|(k, yv)| x.get(k).is_some_and(|xv| contains(xv, yv))),
        _ => a == b,
    }
}

/// jq's `indices(i)`: where a substring, a sub-array or an item starts.
fn indices(a: &Val, i: &Val) -> FR {
    let at = |positions: Vec<usize>| positions.into_iter().map(Val::from).collect::<Val>();
    match (a, i) {
        (Val::Null, _) | (_, Val::Null) => Ok(Val::Null),
        (Val::TStr(x) | Val::BStr(x), Val::TStr(y) | Val::BStr(y)) if !y.is_empty() => Ok(at((0
            ..x.len())
            .filter(|p| x[*p..].starts_with(y))
            .collect())),
        (Val::Arr(x), Val::Arr(y)) if !y.is_empty() => Ok(at((0..x.len())
            .filter(|p| x[*p..].starts_with(&y[..]))
            .collect())),
        (Val::Arr(x), y) => Ok(at((0..x.len()).filter(|p| &x[*p] == y).collect())),
        _ => Err(jaq_core::Error::str(format!("cannot find {i} in {a}"))),
    }
}

thread_local! {
    /// Steps left to the filter running on this thread.
    static FUEL: Cell<u64> = const { Cell::new(0) };
}

/// Spends `n` steps; an error once they are spent (and from then on).
fn spend(n: u64) -> Result<(), jaq_core::Error<Fueled>> {
    FUEL.with(|f| {
        let left = f.get();
        if left < n.max(1) {
            f.set(0);
            Err(jaq_core::Error::str("over its step budget"))
        } else {
            f.set(left - n.max(1));
            Ok(())
        }
    })
}

/// What a value costs to copy: its length for strings, arrays and objects.
fn size(v: &Val) -> u64 {
    match v {
        Val::BStr(b) | Val::TStr(b) => b.len() as u64,
        Val::Arr(a) => a.len() as u64,
        Val::Obj(o) => o.len() as u64,
        _ => 1,
    }
}

/// A jaq value that spends the budget of the running filter on every step.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fueled(Val);

type R = jaq_core::ValR<Fueled>;

fn err_in(e: jaq_core::Error<Val>) -> jaq_core::Error<Fueled> {
    jaq_core::Error::new(Fueled(e.into_val()))
}

fn err_out(e: jaq_core::Error<Fueled>) -> jaq_core::Error<Val> {
    jaq_core::Error::new(e.into_val().0)
}

fn valr(r: jaq_core::ValR<Val>) -> R {
    r.map(Fueled).map_err(err_in)
}

/// An exception of one value type for the other (`err` converts its error): errors and halts
/// pass, other control flow (labels, tail calls, never reached from an update) becomes an error.
fn convert_exn<'a, A, B: From<String>>(
    e: Exn<'a, A>,
    err: impl FnOnce(jaq_core::Error<A>) -> jaq_core::Error<B>,
) -> Exn<'a, B> {
    match e.get_err() {
        Ok(error) => Exn::from(err(error)),
        Err(e) => match e.get_halt() {
            Ok(code) => Exn::halt(code),
            Err(_) => Exn::from(jaq_core::Error::str("this update is not supported")),
        },
    }
}

fn exn_out(e: Exn<'_, Fueled>) -> Exn<'_, Val> {
    convert_exn(e, err_out)
}

fn exn_in(e: Exn<'_, Val>) -> Exn<'_, Fueled> {
    convert_exn(e, err_in)
}

impl fmt::Display for Fueled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<bool> for Fueled {
    fn from(b: bool) -> Self {
        Fueled(Val::from(b))
    }
}

impl From<isize> for Fueled {
    fn from(i: isize) -> Self {
        Fueled(Val::from(i))
    }
}

impl From<usize> for Fueled {
    fn from(i: usize) -> Self {
        Fueled(Val::from(i))
    }
}

impl From<f64> for Fueled {
    fn from(x: f64) -> Self {
        Fueled(Val::from(x))
    }
}

impl From<String> for Fueled {
    fn from(s: String) -> Self {
        Fueled(Val::from(s))
    }
}

impl From<jaq_core::val::Range<Fueled>> for Fueled {
    fn from(r: jaq_core::val::Range<Fueled>) -> Self {
        Fueled(Val::from(r.start.map(|v| v.0)..r.end.map(|v| v.0)))
    }
}

impl FromIterator<Fueled> for Fueled {
    fn from_iter<I: IntoIterator<Item = Fueled>>(iter: I) -> Self {
        Fueled(iter.into_iter().map(|v| v.0).collect())
    }
}

macro_rules! operator {
    ($trait:ident, $method:ident) => {
        impl std::ops::$trait for Fueled {
            type Output = R;
            fn $method(self, other: Fueled) -> R {
                spend(size(&self.0).saturating_add(size(&other.0)))?;
                valr(std::ops::$trait::$method(self.0, other.0))
            }
        }
    };
}

operator!(Add, add);
operator!(Sub, sub);
operator!(Div, div);
operator!(Rem, rem);

impl std::ops::Mul for Fueled {
    type Output = R;
    fn mul(self, other: Fueled) -> R {
        // `"ab" * n` repeats the string: its cost is the result's size, checked before it is built.
        let times = |v: &Val| match v {
            Val::Num(_) => jaq_std::ValT::as_f64(v)
                .filter(|n| !n.is_nan())
                .map_or(1, |n| n.clamp(1.0, 1e15) as u64),
            _ => 1,
        };
        let cost = size(&self.0)
            .saturating_mul(times(&other.0))
            .saturating_add(size(&other.0).saturating_mul(times(&self.0)));
        spend(cost)?;
        valr(self.0 * other.0)
    }
}

impl std::ops::Neg for Fueled {
    type Output = R;
    fn neg(self) -> R {
        spend(1)?;
        valr(-self.0)
    }
}

impl jaq_core::ValT for Fueled {
    fn from_num(n: &str) -> R {
        spend(1)?;
        valr(Val::from_num(n))
    }

    fn from_map<I: IntoIterator<Item = (Self, Self)>>(iter: I) -> R {
        let mut pairs = 0u64;
        let map = Val::from_map(iter.into_iter().map(|(k, v)| {
            pairs += 1;
            (k.0, v.0)
        }));
        spend(pairs)?;
        valr(map)
    }

    fn key_values(
        self,
    ) -> jaq_core::box_iter::BoxIter<'static, jaq_core::ValR<(Self, Self), Self>> {
        if let Err(e) = spend(1) {
            return Box::new(std::iter::once(Err(e)));
        }
        Box::new(self.0.key_values().map(|kv| {
            spend(1)?;
            kv.map(|(k, v)| (Fueled(k), Fueled(v))).map_err(err_in)
        }))
    }

    fn values(self) -> Box<dyn Iterator<Item = R>> {
        if let Err(e) = spend(1) {
            return Box::new(std::iter::once(Err(e)));
        }
        Box::new(self.0.values().map(|v| {
            spend(1)?;
            valr(v)
        }))
    }

    fn index(self, index: &Self) -> R {
        spend(1)?;
        valr(self.0.index(&index.0))
    }

    fn range(self, range: jaq_core::val::Range<&Self>) -> R {
        spend(size(&self.0))?;
        valr(
            self.0
                .range(range.start.map(|v| &v.0)..range.end.map(|v| &v.0)),
        )
    }

    fn map_values<'a, I: Iterator<Item = jaq_core::ValX<'a, Self>>>(
        self,
        opt: Opt,
        f: impl Fn(Self) -> I,
    ) -> jaq_core::ValX<'a, Self> {
        spend(size(&self.0)).map_err(Exn::from)?;
        let mapped = self.0.map_values(opt, |v| {
            f(Fueled(v)).map(|y| y.map(|y| y.0).map_err(exn_out))
        });
        mapped.map(Fueled).map_err(exn_in)
    }

    fn map_index<'a, I: Iterator<Item = jaq_core::ValX<'a, Self>>>(
        self,
        index: &Self,
        opt: Opt,
        f: impl Fn(Self) -> I,
    ) -> jaq_core::ValX<'a, Self> {
        spend(1).map_err(Exn::from)?;
        let mapped = self.0.map_index(&index.0, opt, |v| {
            f(Fueled(v)).map(|y| y.map(|y| y.0).map_err(exn_out))
        });
        mapped.map(Fueled).map_err(exn_in)
    }

    fn map_range<'a, I: Iterator<Item = jaq_core::ValX<'a, Self>>>(
        self,
        range: jaq_core::val::Range<&Self>,
        opt: Opt,
        f: impl Fn(Self) -> I,
    ) -> jaq_core::ValX<'a, Self> {
        spend(size(&self.0)).map_err(Exn::from)?;
        let range = range.start.map(|v| &v.0)..range.end.map(|v| &v.0);
        let mapped = self.0.map_range(range, opt, |v| {
            f(Fueled(v)).map(|y| y.map(|y| y.0).map_err(exn_out))
        });
        mapped.map(Fueled).map_err(exn_in)
    }

    fn as_bool(&self) -> bool {
        self.0.as_bool()
    }

    fn into_string(self) -> Self {
        Fueled(self.0.into_string())
    }
}

impl jaq_std::ValT for Fueled {
    fn into_seq<S: FromIterator<Self>>(self) -> Result<S, Self> {
        match self.0.into_seq::<Vec<Val>>() {
            Ok(items) => {
                // Sorting and grouping cost about their length (more is not refused here).
                let _ = spend(items.len() as u64);
                Ok(items.into_iter().map(Fueled).collect())
            }
            Err(v) => Err(Fueled(v)),
        }
    }

    fn is_int(&self) -> bool {
        self.0.is_int()
    }

    fn as_isize(&self) -> Option<isize> {
        self.0.as_isize()
    }

    fn as_f64(&self) -> Option<f64> {
        jaq_std::ValT::as_f64(&self.0)
    }

    fn is_utf8_str(&self) -> bool {
        self.0.is_utf8_str()
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.0.as_bytes()
    }

    fn as_sub_str(&self, sub: &[u8]) -> Self {
        Fueled(self.0.as_sub_str(sub))
    }

    fn from_utf8_bytes(b: impl AsRef<[u8]> + Send + 'static) -> Self {
        Fueled(Val::from_utf8_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(filter: &str, input: Value) -> Result<Vec<Value>, JqError> {
        Filter::new(filter)?.run(&input, Budget::default())
    }

    #[test]
    fn filters_shape_answers() {
        let sites = json!([{"name": "a", "status": "connected", "mac": "1"}, {"name": "b", "status": "disconnected", "mac": "2"}]);
        assert_eq!(
            run(
                r#".[] | select(.status=="disconnected") | {name, mac}"#,
                sites.clone()
            ),
            Ok(vec![json!({"name": "b", "mac": "2"})])
        );
        assert_eq!(
            run("map(.name) | sort", sites.clone()),
            Ok(vec![json!(["a", "b"])])
        );
        assert_eq!(
            run(
                r#"[.[] | select(.name | test("^a"))] | length"#,
                sites.clone()
            ),
            Ok(vec![json!(1)])
        );
        assert_eq!(run(r#"{env: 1} | .env"#, json!(null)), Ok(vec![json!(1)]));
        assert_eq!(run(r#""\(.[0].name)-x""#, sites), Ok(vec![json!("a-x")]));
    }

    #[test]
    fn bad_filters_say_where() {
        let e = run(".[] | select(.a ==", json!([])).expect_err("syntax");
        assert!(matches!(e, JqError::Syntax { line: 1, .. }), "{e}");
        let e = run(".a |\n  nosuch", json!({})).expect_err("unknown");
        assert!(
            matches!(
                e,
                JqError::Syntax {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{e}"
        );
        for refused in [
            "def f: f; f",
            "env",
            "$ENV.HOME",
            "range(5)",
            "repeat(.)",
            "recurse(.)",
            "[limit(3; repeat(1))]",
            "input",
        ] {
            let e = run(refused, json!(1)).expect_err(refused);
            assert!(matches!(e, JqError::Refused { .. }), "{refused}: {e}");
        }
        assert!(
            run(r#""def \(1)""#, json!(null)).is_ok(),
            "words in strings are not code"
        );
        // Code after a string with an interpolation, and code inside one, are checked.
        let after = run(r#""a\("b")c" | env"#, json!(null)).expect_err("code after a string");
        assert!(matches!(after, JqError::Refused { .. }), "{after}");
        assert!(matches!(
            run(r#""\(env)""#, json!(null)),
            Err(JqError::Refused { .. })
        ));
        // Behind the check, the natives of the process are not in the library at all.
        for missing in ["env", "now", "halt(1)", "\"x\" | debug", "stderr", "$ENV"] {
            assert!(
                matches!(Filter::compile(missing), Err(JqError::Syntax { .. })),
                "{missing}"
            );
        }
        let deep = format!("{}.{}", "(".repeat(100), ")".repeat(100));
        assert!(matches!(run(&deep, json!(1)), Err(JqError::Refused { .. })));
    }

    #[test]
    fn loops_and_explosions_are_cut() {
        let big: Vec<u32> = (0..2000).collect();
        let product = "[(.[]|1) + (.[]|1) + (.[]|1)] | length";
        assert!(matches!(
            run(product, json!(big)),
            Err(JqError::OverBudget(_))
        ));
        assert!(matches!(
            run(r#""x" * 1000000000000"#, json!(null)),
            Err(JqError::OverBudget(_))
        ));
        let bindings = ".[] as $a | .[] as $b | .[] as $c | 1";
        assert!(matches!(
            run(bindings, json!(big)),
            Err(JqError::OverBudget(_))
        ));
        // Caught by try, the spent budget still ends the run.
        assert!(run("[.[] | try (.[]?) catch 0] | length", json!(big)).is_ok());
        let outputs = Filter::new(".[]").expect("ok").run(
            &json!(big),
            Budget {
                outputs: 10,
                ..Budget::default()
            },
        );
        assert!(matches!(outputs, Err(JqError::OverBudget(_))));
        assert_eq!(
            run("..|numbers", json!([1, [2]])),
            Ok(vec![json!(1), json!(2)])
        );
    }
}
