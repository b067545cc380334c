//! Which property names of the spec hold secrets. The spec marks none (no `format: password`),
//! so the names that look like secrets ([`crate::SECRET_CANDIDATES`], generated from the spec)
//! are classified here by hand, each once: a test fails when a new spec version brings a name
//! that is in neither list. Reviewed against the spec's types and descriptions on 2026-12-01
//! (`community` is a BGP community list there, `dynamic_psk` a settings object), and again on
//! 2026-12-07 for the names with `key` (`key` is an API token's value beside `privileges`, a
//! private key beside `cert`, and a plain identifier in the constants: see [`SECRET_BESIDE`]).

/// Names whose values are secrets: passwords, pre-shared keys, API keys and tokens, client
/// secrets, SNMP community names, authentication keys.
pub const SECRET: &[&str] = &[
    "account_key",
    "amazon_client_secret",
    "api_key",
    "api_password",
    "api_token",
    "apitoken",
    "auth_key",
    "auth_keys",
    "auth_password",
    "authentication_password",
    "azure_client_secret",
    "broadnet_password",
    "clickatell_api_key",
    "client_secret",
    "community_name",
    "conductor_token",
    "cp_api_key",
    "default_psk",
    "ecm_api_key",
    "encryption_password",
    "facebook_client_secret",
    "fips_zeroize_password",
    "google_client_secret",
    "gupshup_password",
    "jamf_access_token",
    "key_secret",
    "keypair",
    "keywrap_kek",
    "keywrap_mack",
    "ldap_bind_password",
    "ldap_client_key",
    "lte_password",
    "mesh_psk",
    "microsoft_client_secret",
    "mist_password",
    "oauth2_client_secret",
    "oauth2_password",
    "oauth_cc_client_secret",
    "oauth_ropc_client_secret",
    "old_passphrase",
    "org_apitoken",
    "partner_key",
    "passphrase",
    "password",
    "portal_api_secret",
    "portal_authorize_jwt_secret",
    "poser_password",
    "psk",
    "puzzel_password",
    "referer_invite_token",
    "root_password",
    "scim_secret_token",
    "secret",
    "smsglobal_api_key",
    "smsglobal_api_secret",
    "splunk_token",
    "telstra_client_secret",
    "twilio_auth_token",
    "two_factor_secret",
    "verify_token",
    "webhook_password",
];

/// Names that look like secrets but are not: flags, ids, names, labels of portal pages,
/// policies, URLs, BGP communities.
pub const NOT_SECRET: &[&str] = &[
    "add_community",
    "admin_sshkeys",
    "authButtonPassphrase",
    "cleanup_psk",
    "community",
    "community_vlan_id",
    "dynamic_psk",
    "enable_local_keycaching",
    "exclude_community",
    "hide_psks_created_by_other_admins",
    "key_id",
    "key_idx",
    "key_mgmt",
    "keywrap_enabled",
    "keywrap_format",
    "last_psk_id",
    "last_psk_name",
    "multi_psk_only",
    "oauth2_token_url",
    "org_apitoken_name",
    "passphraseCancel",
    "passphraseError",
    "passphraseLabel",
    "passphraseMessage",
    "passphraseSubmit",
    "passphraseTitle",
    "passphrase_enabled",
    "passphrase_expire",
    "passphrase_rules",
    "password_modified_time",
    "password_policy",
    "psk_id",
    "psk_ids",
    "psk_name",
    "pskportal_id",
    "sitekey",
    "ssh_keys",
    "use_sso_role_for_psk_role",
];

/// Names that hold secrets only in an object that also has one of the listed properties:
/// `key` beside `privileges` (an API token's value) or `cert` (a private key), `keys` beside
/// `key_idx` or `psk` (a WLAN's WEP keys). Elsewhere they are identifiers (`"key": "device_down"`).
pub const SECRET_BESIDE: &[(&str, &[&str])] = &[
    ("key", &["privileges", "cert"]),
    ("keys", &["key_idx", "psk"]),
];

/// Whether values of the property `name` are secrets in an object for which `has` tells which
/// other properties it has.
pub fn is_secret_in(name: &str, has: impl Fn(&str) -> bool) -> bool {
    is_secret(name)
        || SECRET_BESIDE
            .iter()
            .any(|(n, beside)| *n == name && beside.iter().any(|b| has(b)))
}

/// Whether values of the property `name` are secrets.
pub fn is_secret(name: &str) -> bool {
    SECRET.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beside(name: &str) -> bool {
        SECRET_BESIDE.iter().any(|(n, _)| *n == name)
    }

    #[test]
    fn every_candidate_of_the_spec_is_classified_once() {
        let unclassified: Vec<&str> = crate::SECRET_CANDIDATES
            .iter()
            .copied()
            .filter(|n| !SECRET.contains(n) && !NOT_SECRET.contains(n) && !beside(n))
            .collect();
        assert!(
            unclassified.is_empty(),
            "property names of the spec that look like secrets and are not classified in secrets.rs: {unclassified:?}"
        );
        let both: Vec<&&str> = SECRET
            .iter()
            .filter(|n| NOT_SECRET.contains(n) || beside(n))
            .chain(NOT_SECRET.iter().filter(|n| beside(n)))
            .collect();
        assert!(both.is_empty(), "classified twice: {both:?}");
        let stale: Vec<&&str> = SECRET
            .iter()
            .chain(NOT_SECRET)
            .chain(SECRET_BESIDE.iter().map(|(n, _)| n))
            .filter(|n| !crate::SECRET_CANDIDATES.contains(n))
            .collect();
        assert!(
            stale.is_empty(),
            "classified but no longer in the spec: {stale:?}"
        );
        let mut sorted = SECRET.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, SECRET, "SECRET stays sorted: is_secret searches it");
        assert!(is_secret("psk") && !is_secret("psk_id") && !is_secret("passphraseLabel"));
        assert!(is_secret_in("key", |n| n == "privileges") && !is_secret_in("key", |_| false));
    }
}
