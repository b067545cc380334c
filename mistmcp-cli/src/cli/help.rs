//! The help a person reads first: `mistcli` and `mistcli --help` give a short overview (the most
//! used resources by area, the other commands, the global flags once); `mistcli help all` lists
//! every resource.

use super::commands::Command;
use clap::Arg;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// An area of the overview and its most used resources.
struct Area {
    /// What a network engineer calls it.
    name: &'static str,
    /// Resources, as `mistcli <resource>`; each must exist (tested).
    resources: &'static [&'static str],
}

/// The overview's areas, in the order a network engineer meets them.
const AREAS: &[Area] = &[
    Area {
        name: "Sites",
        resources: &["sites", "site-groups", "site-templates", "maps", "zones"],
    },
    Area {
        name: "Devices",
        resources: &["devices", "inventory", "device-profiles", "devices-stats"],
    },
    Area {
        name: "Clients",
        resources: &[
            "wireless-clients",
            "wired-clients",
            "nac-clients",
            "wan-clients",
        ],
    },
    Area {
        name: "WLANs",
        resources: &["wlans", "psks", "wx-tags", "wx-rules"],
    },
    Area {
        name: "Config objects",
        resources: &[
            "network-templates",
            "gateway-templates",
            "ap-templates",
            "rf-templates",
            "networks",
        ],
    },
    Area {
        name: "Stats",
        resources: &["stats", "devices-stats", "sle", "insight-metrics"],
    },
    Area {
        name: "Events",
        resources: &[
            "device-events",
            "wireless-client-events",
            "audit-logs",
            "system-events",
        ],
    },
    Area {
        name: "Alarms",
        resources: &["alarms", "alarm-templates", "suppressed-alarms", "webhooks"],
    },
    Area {
        name: "Upgrades",
        resources: &[
            "device-upgrades",
            "ssr-upgrades",
            "available-device-versions",
        ],
    },
    Area {
        name: "MSP",
        resources: &["msps", "orgs", "licenses"],
    },
    Area {
        name: "Self",
        resources: &["self", "self-api-tokens", "api-tokens", "admins"],
    },
];

/// The commands that are not resources, with what they are for.
const COMMANDS: &[(&str, &str)] = &[
    (
        "auth",
        "Sign in, see who you are, switch profiles, sign out",
    ),
    ("config", "Defaults of the profile: org, output, host"),
    ("api", "Any API path, as gh api: mistcli api /api/v1/self"),
    (
        "ops",
        "Find the command of an operation: mistcli ops search <words>",
    ),
    ("call", "Call an operation by id: mistcli call listOrgSites"),
    ("junos", "Junos devices directly over NETCONF/SSH"),
    (
        "completions",
        "Tab completion for bash, zsh, fish, elvish, powershell",
    ),
    (
        "help",
        "mistcli help all: every resource; mistcli help <resource>",
    ),
];

/// The overview of `mistcli` and `mistcli --help`: under 60 lines.
pub fn overview(global_flags: &[Arg], resource_count: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "The Juniper Mist API from the shell: tables on a terminal, JSON in a pipe.\n\nUsage: mistcli <resource> <verb> [flags]    e.g. mistcli sites list\n\nResources (the most used; `mistcli help all` lists all {resource_count}):"
    );
    for area in AREAS {
        let _ = writeln!(s, "  {:<16}{}", area.name, area.resources.join("  "));
    }
    let _ = writeln!(s, "\nCommands:");
    for (name, what) in COMMANDS {
        let _ = writeln!(s, "  {name:<16}{what}");
    }
    let _ = writeln!(s, "\nGlobal flags (before or after the command):");
    s.push_str(&flags(global_flags));
    let _ = write!(
        s,
        "\nLearn more: mistcli <resource> --help (its verbs), mistcli ops search <words>.\nExit codes: 0 ok, 1 error, 2 usage, 3 auth (no token, 401, 403), 4 not found, 5 rate limited."
    );
    s
}

/// The global flags, one line each.
fn flags(global_flags: &[Arg]) -> String {
    let mut s = String::new();
    for arg in global_flags {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        for alias in arg.get_visible_aliases().into_iter().flatten() {
            names.push(format!("--{alias}"));
        }
        let takes_value = arg.get_action().takes_values();
        let value = match arg.get_value_names() {
            Some(v) if takes_value => format!(" {}", v.join(" ")),
            _ if takes_value => format!(
                " {}",
                arg.get_id().as_str().to_uppercase().replace('_', "-")
            ),
            _ => String::new(),
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        // A name wider than its column still gets two spaces before its help.
        let _ = writeln!(
            s,
            "  {:<24}  {help}",
            format!("{}{value}", names.join(", "))
        );
    }
    s
}

/// `mistcli help all`: every resource with its verbs and spec tag.
pub fn all(resources: &BTreeMap<&'static str, Vec<Command>>) -> String {
    let mut s = format!(
        "All {} resources (mistcli <resource> --help shows a resource's verbs):\n",
        resources.len()
    );
    for (name, cmds) in resources {
        let _ = writeln!(s, "  {name:<44}{}", verbs(cmds).join(", "));
    }
    s
}

/// The verbs of a resource's commands, each once, in order.
pub fn verbs(cmds: &[Command]) -> Vec<&'static str> {
    let mut verbs: Vec<&'static str> = Vec::new();
    for c in cmds {
        if !verbs.contains(&c.verb) {
            verbs.push(c.verb);
        }
    }
    verbs
}

/// A line under each command's own help: where the global flags are.
pub const GLOBAL_FLAGS_HINT: &str = "Global flags (-o, --json, --jq, --limit, --all, --org, --site, --profile, --yes ...): mistcli --help";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overview_is_short_and_names_real_resources() {
        let resources = super::super::commands::resources();
        let text = overview(&super::super::global_args(), resources.len());
        let lines = text.lines().count();
        assert!(lines < 60, "{lines} lines:\n{text}");
        for area in AREAS {
            for r in area.resources {
                assert!(
                    resources.contains_key(r),
                    "the overview names `{r}`, which is no resource"
                );
            }
        }
        for arg in super::super::global_args() {
            let long = format!("--{}", arg.get_long().expect("global flags are long"));
            let listed = text
                .lines()
                .filter(|l| {
                    let names = l.trim_start().split("  ").next().unwrap_or("");
                    names.split([',', ' ']).any(|w| w == long)
                })
                .count();
            assert_eq!(listed, 1, "{long} must be listed once:\n{text}");
        }
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "too wide: {line}");
        }
        for line in flags(&super::super::global_args()).lines() {
            let parts: Vec<&str> = line.trim().split("  ").filter(|p| !p.is_empty()).collect();
            assert!(parts.len() >= 2, "a flag runs into its help: {line}");
        }
    }

    #[test]
    fn help_all_lists_every_resource() {
        let resources = super::super::commands::resources();
        let text = all(resources);
        assert_eq!(text.lines().count(), resources.len() + 1);
    }
}
