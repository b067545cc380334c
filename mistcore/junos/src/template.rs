//! Jinja2 templates with YAML variables (`render_and_apply_j2_template`), rendered by
//! minijinja: undefined variables are errors, loops are bounded by fuel, and the output is
//! bounded like any configuration.

use crate::JunosError;
use crate::config_policy::MAX_CONFIG_BYTES;
use serde_json::Value;

/// The most a template or its variables may hold.
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;

/// The fuel a rendering may burn (each instruction costs some): enough for any configuration,
/// not for `{% for i in range(10**9) %}`.
const FUEL: u64 = 2_000_000;

/// Parses YAML (or JSON) variables; empty text is no variables.
pub fn parse_vars(vars: &str) -> Result<Value, JunosError> {
    if vars.len() > MAX_TEMPLATE_BYTES {
        return Err(JunosError::Template(format!(
            "the variables are {} bytes: at most {MAX_TEMPLATE_BYTES}",
            vars.len()
        )));
    }
    if vars.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_norway::from_str(vars)
        .map_err(|e| JunosError::Template(format!("the variables are not valid YAML: {e}")))?;
    if !value.is_object() {
        return Err(JunosError::Template(
            "the variables must be a YAML mapping (name: value)".into(),
        ));
    }
    Ok(value)
}

/// Renders `template` with `vars` and `router_name` (the device it is rendered for).
pub fn render(template: &str, vars: &Value, router_name: &str) -> Result<String, JunosError> {
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(JunosError::Template(format!(
            "the template is {} bytes: at most {MAX_TEMPLATE_BYTES}",
            template.len()
        )));
    }
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    let mut context = vars.as_object().cloned().unwrap_or_default();
    context
        .entry("router_name")
        .or_insert_with(|| Value::String(router_name.to_string()));
    let rendered = env
        .render_str(template, Value::Object(context))
        .map_err(|e| JunosError::Template(format!("the template does not render: {e}")))?;
    if rendered.len() > MAX_CONFIG_BYTES {
        return Err(JunosError::Template(format!(
            "the rendered configuration is over {MAX_CONFIG_BYTES} bytes"
        )));
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_bounds() {
        let vars = parse_vars("interfaces:\n  - {name: ge-0/0/1, desc: uplink}\n").expect("yaml");
        let out = render(
            "{% for i in interfaces %}set interfaces {{ i.name }} description {{ i.desc }} # {{ router_name }}\n{% endfor %}",
            &vars,
            "r1",
        )
        .expect("renders");
        assert_eq!(out, "set interfaces ge-0/0/1 description uplink # r1\n");
        assert!(render("{{ missing }}", &vars, "r1").is_err());
        assert!(
            render(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                &vars,
                "r1"
            )
            .is_err()
        );
        assert!(parse_vars("- a\n- b").is_err());
    }
}
