//! Single sign-on settings as an owner types them (the `/sso` page, the CLI),
//! parsed by one function in the browser and on the server so both name the
//! same field the same way; and the check of an e-mail against a provider's
//! allowed domains.

use serde::{Deserialize, Serialize};

use super::text::trim_input;
use super::{FieldError, ProjectToken, Role};

/// One identity provider's settings as typed (form field names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderInput {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Allowed e-mail domains, separated by commas, spaces or lines.
    pub domains: String,
    /// The ID token claim listing the user's groups; empty: no mapping.
    pub groups_claim: String,
    /// Lines `group = project_token:role`.
    pub group_map: String,
}

/// [`ProviderInput`] checked. The secret is still plain: the server seals it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSettings {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub domains: Vec<String>,
    pub groups_claim: Option<String>,
    pub group_map: Vec<GroupRule>,
}

/// A group of the provider giving a role in a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRule {
    pub group: String,
    pub project: ProjectToken,
    pub role: Role,
}

impl std::fmt::Display for GroupRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}:{}", self.group, self.project, self.role)
    }
}

const MAX_DOMAINS: usize = 50;
const MAX_RULES: usize = 100;

impl ProviderInput {
    /// Every bad field, each named, with how to fix it.
    pub fn parse(&self) -> Result<ProviderSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<(), FieldError>| {
            if let Err(e) = r {
                errors.push(e)
            }
        };
        let name = trim_input(&self.name).to_owned();
        keep(plain_text("name", &name, 60));
        let issuer = trim_input(&self.issuer).to_owned();
        keep(check_issuer(&issuer));
        let client_id = trim_input(&self.client_id).to_owned();
        keep(plain_text("client_id", &client_id, 200));
        let client_secret = trim_input(&self.client_secret).to_owned();
        keep(plain_text("client_secret", &client_secret, 500));
        let domains = parse_domains(&self.domains).map_err(|e| keep(Err(e))).unwrap_or_default();
        let claim = trim_input(&self.groups_claim).to_owned();
        let group_map = parse_group_map(&self.group_map).map_err(|e| keep(Err(e))).unwrap_or_default();
        let groups_claim = (!claim.is_empty()).then_some(claim);
        match &groups_claim {
            Some(c) if c.len() > 64 || !c.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c)) => {
                keep(Err(FieldError::new("groups_claim", "a claim name: letters, digits and _ - . : / (at most 64)")))
            }
            None if !group_map.is_empty() => {
                keep(Err(FieldError::new("groups_claim", "name the claim that lists the groups (e.g. groups)")))
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ProviderSettings { name, issuer, client_id, client_secret, domains, groups_claim, group_map })
    }
}

fn plain_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("at most {max} characters, no control characters")));
    }
    Ok(())
}

/// `https://…`, or `http://` on a loopback host only (a test provider):
/// the ID token's keys are fetched from there.
fn check_issuer(issuer: &str) -> Result<(), FieldError> {
    let err = |m: &str| Err(FieldError::new("issuer", m));
    if issuer.is_empty() {
        return err("required: the provider's issuer URL, e.g. https://login.example.com/realms/staff");
    }
    if issuer.len() > 500 || issuer.chars().any(|c| c.is_control() || c.is_whitespace()) || issuer.contains(['?', '#'])
    {
        return err("a URL without spaces, query or fragment");
    }
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split('/').next().unwrap_or_default();
        let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |h| h.0);
        if !["127.0.0.1", "localhost", "[::1]"].contains(&host) {
            return err("must start with https:// (http:// only for a provider on this machine)");
        }
        rest
    } else {
        return err("must start with https://");
    };
    if rest.split('/').next().is_none_or(str::is_empty) || rest.contains('@') {
        return err("must name a host, with no user name");
    }
    Ok(())
}

/// Domains separated by commas, spaces or lines, lower-cased, without a
/// leading `@`; at least one.
pub fn parse_domains(text: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split([',', ' ', '\n', '\r', '\t', ';']).map(trim_input).filter(|s| !s.is_empty()) {
        let d = raw.trim_start_matches('@').trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
            return Err(FieldError::new("domains", "not a domain name (like example.com)").with_entry(raw));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if out.is_empty() {
        return Err(FieldError::new("domains", "name at least one e-mail domain whose users may sign in"));
    }
    if out.len() > MAX_DOMAINS {
        return Err(FieldError::new("domains", format!("at most {MAX_DOMAINS} domains")));
    }
    Ok(out)
}

/// Lines `group = project_token:role`; blank lines and `#` comments skipped.
pub fn parse_group_map(text: &str) -> Result<Vec<GroupRule>, FieldError> {
    let mut out = Vec::new();
    for line in text.lines().map(trim_input).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let bad = |m: &str| FieldError::new("group_map", m).with_entry(line);
        let (group, target) = line.rsplit_once('=').ok_or_else(|| bad("write group = project_token:role"))?;
        let (group, target) = (group.trim(), target.trim());
        if group.is_empty() || group.len() > 200 || group.chars().any(char::is_control) {
            return Err(bad("name the group before ="));
        }
        let (token, role) = target.split_once(':').ok_or_else(|| bad("write project_token:role after ="))?;
        let project = ProjectToken::parse(token).map_err(|_| bad("not a project token"))?;
        let role = Role::parse(role.trim()).map_err(|_| bad("the role is admin, editor or support"))?;
        out.push(GroupRule { group: group.to_owned(), project, role });
    }
    if out.len() > MAX_RULES {
        return Err(FieldError::new("group_map", format!("at most {MAX_RULES} lines")));
    }
    Ok(out)
}

/// Whether `email`'s domain is one of `domains` exactly (a subdomain is another domain).
pub fn domain_allowed(domains: &[String], email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(local, d)| !local.is_empty() && domains.iter().any(|a| a.eq_ignore_ascii_case(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProviderInput {
        ProviderInput {
            name: "Staff login".into(),
            issuer: "https://login.example.com/realms/staff".into(),
            client_id: "imgflush".into(),
            client_secret: "s3cret".into(),
            domains: "Example.com, @corp.example.org\nexample.com".into(),
            groups_claim: "groups".into(),
            group_map: "# comment\nimgflush-editors = demo:editor\n\nops=demo:admin".into(),
        }
    }

    #[test]
    fn parses_a_provider() {
        let s = input().parse().unwrap();
        assert_eq!(s.domains, ["example.com", "corp.example.org"]);
        assert_eq!(s.group_map.len(), 2);
        assert_eq!(s.group_map[0].to_string(), "imgflush-editors = demo:editor");
        assert_eq!(s.groups_claim.as_deref(), Some("groups"));
        let local = ProviderInput { issuer: "http://127.0.0.1:4444".into(), ..input() };
        assert!(local.parse().is_ok());
    }

    #[test]
    fn names_each_bad_field() {
        let bad = ProviderInput {
            name: "".into(),
            issuer: "http://idp.example.com".into(),
            domains: "".into(),
            groups_claim: "".into(),
            group_map: "x = demo:boss".into(),
            ..input()
        };
        let fields: Vec<String> = bad.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "issuer", "domains", "group_map"]);
        let no_claim = ProviderInput { groups_claim: " ".into(), ..input() };
        assert_eq!(no_claim.parse().unwrap_err()[0].field, "groups_claim");
        for issuer in ["ftp://x", "https://", "https://u@host", "https://a.example?x", "http://localhost.evil.example"]
        {
            let e = ProviderInput { issuer: issuer.into(), ..input() }.parse().unwrap_err();
            assert_eq!(e[0].field, "issuer", "{issuer}");
        }
        assert!(parse_domains("not_a_domain").is_err());
        assert!(parse_group_map("a = Demo Project:editor").is_err());
    }

    #[test]
    fn domains_match_exactly() {
        let d = vec!["example.com".to_owned()];
        assert!(domain_allowed(&d, "a@example.com"));
        assert!(domain_allowed(&d, "a@EXAMPLE.com"));
        assert!(!domain_allowed(&d, "a@sub.example.com"));
        assert!(!domain_allowed(&d, "a@example.com.evil"));
        assert!(!domain_allowed(&d, "@example.com"));
        assert!(!domain_allowed(&d, "example.com"));
    }
}
