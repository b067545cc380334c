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
const FUEL: u64 = 500_000;

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
    let compiled = env
        .template_from_str(template)
        .map_err(|e| JunosError::Template(format!("the template does not render: {e}")))?;
    // Written through a bounded buffer: a loop that writes gigabytes stops at the cap.
    let mut out = Bounded(Vec::new());
    compiled
        .render_captured_to(Value::Object(context), &mut out)
        .map(|_| ())
        .map_err(|e| match out.0.len() >= MAX_CONFIG_BYTES {
            true => JunosError::Template(format!(
                "the rendered configuration is over {MAX_CONFIG_BYTES} bytes"
            )),
            false => JunosError::Template(format!("the template does not render: {e}")),
        })?;
    String::from_utf8(out.0)
        .map_err(|_| JunosError::Template("the rendered configuration is not UTF-8".into()))
}

/// A buffer that refuses to grow past [`MAX_CONFIG_BYTES`].
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_CONFIG_BYTES {
            self.0.resize(MAX_CONFIG_BYTES, b' ');
            return Err(std::io::Error::other(
                "the rendered configuration is too large",
            ));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
        let huge = render(
            "{% set s = \"x\" * 100000 %}{% for i in range(1500) %}{{ s }}{% endfor %}",
            &vars,
            "r1",
        )
        .expect_err("over the cap")
        .to_string();
        assert!(huge.contains("over 1048576 bytes"), "{huge}");
    }
}
