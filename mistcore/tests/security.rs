//! The token security analysis: each risk rule, with synthetic `/api/v1/self` answers.

use mistcore::security::{Level, Limits, analyze};
use serde_json::{Value, json};

fn me(privileges: Vec<Value>) -> Value {
    json!({"email": "ops@example.com", "privileges": privileges})
}

fn org(id: usize, role: &str, msp: Option<&str>) -> Value {
    let mut p = json!({"scope": "org", "org_id": format!("org-{id}"), "role": role, "name": format!("Org {id}")});
    if let Some(m) = msp {
        p["msp_id"] = json!(m);
    }
    p
}

fn msp(id: usize, role: &str) -> Value {
    json!({"scope": "msp", "msp_id": format!("msp-{id}"), "role": role, "name": format!("MSP {id}")})
}

fn rules(privileges: Vec<Value>) -> Vec<(&'static str, Level)> {
    analyze(&me(privileges), &Limits::default())
        .risks
        .iter()
        .map(|r| (r.rule, r.level))
        .collect()
}

#[test]
fn a_token_for_one_org_has_no_risk() {
    let report = analyze(
        &me(vec![
            org(1, "admin", None),
            json!({"scope": "site", "site_id": "s", "org_id": "org-1", "role": "write"}),
        ]),
        &Limits::default(),
    );
    assert!(report.risks.is_empty());
    assert_eq!(report.highest, None);
    assert_eq!(report.grants.len(), 2);
    assert!(report.text().contains("No risk"));
}

#[test]
fn admin_on_two_orgs_is_critical() {
    assert_eq!(
        rules(vec![org(1, "admin", None), org(2, "admin", None)]),
        vec![("MIST_MAX_ADMIN_ORGS", Level::Critical)]
    );
}

#[test]
fn admin_or_write_on_two_msps_is_critical() {
    let found = rules(vec![msp(1, "admin"), msp(2, "admin")]);
    assert!(found.contains(&("MIST_MAX_ADMIN_MSPS", Level::Critical)));
    assert!(found.contains(&("MIST_MAX_WRITE_MSPS", Level::Critical)));
    assert_eq!(
        rules(vec![msp(1, "write"), msp(2, "write")]),
        vec![("MIST_MAX_WRITE_MSPS", Level::Critical)]
    );
    assert!(rules(vec![msp(1, "read"), msp(2, "read")]).is_empty());
}

#[test]
fn write_on_four_orgs_is_high() {
    let orgs = (1..=4).map(|i| org(i, "write", None)).collect();
    assert_eq!(rules(orgs), vec![("MIST_MAX_WRITE_ORGS", Level::High)]);
    assert!(rules((1..=3).map(|i| org(i, "write", None)).collect()).is_empty());
}

#[test]
fn many_orgs_under_one_msp_is_high() {
    let orgs = (1..=6).map(|i| org(i, "read", Some("msp-9"))).collect();
    assert_eq!(rules(orgs), vec![("MIST_MAX_ORGS_PER_MSP", Level::High)]);
}

#[test]
fn limits_come_from_the_environment_and_critical_sorts_first() {
    let limits = Limits::from_vars(|n| (n == "MIST_MAX_ADMIN_ORGS").then(|| "3".to_string()))
        .expect("limits");
    assert_eq!(limits.max_admin_orgs, 3);
    assert!(
        Limits::from_vars(|n| (n == "MIST_MAX_WRITE_ORGS").then(|| "many".to_string())).is_err()
    );
    let mut privileges: Vec<Value> = (1..=4).map(|i| org(i, "admin", None)).collect();
    privileges.push(msp(1, "read"));
    let report = analyze(&me(privileges), &Limits::default());
    assert_eq!(report.risks.first().map(|r| r.level), Some(Level::Critical));
    assert!(report.is_critical());
    assert!(
        report
            .text()
            .contains("CRITICAL: orgs with the admin role: 4 (limit 1, MIST_MAX_ADMIN_ORGS)")
    );
}
