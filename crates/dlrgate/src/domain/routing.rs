//! Routing: which connector sends a message, from its account and its recipient.
//!
//! Owns the rule order and matching only: rules are tried in the order written and the first whose
//! every condition matches wins; a message no rule takes goes to the default connector. Whether a
//! connector exists is checked when the settings load, not here.

/// One rule: an empty list is no condition on that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub connector: String,
    /// Account names.
    pub accounts: Vec<String>,
    /// Recipient prefixes in international form without `+` (e.g. `49`, `4917`).
    pub prefixes: Vec<String>,
}

impl Rule {
    fn matches(&self, account: &str, recipient: &str) -> bool {
        let digits = recipient.trim_start_matches('+');
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && (self.prefixes.is_empty()
                || self
                    .prefixes
                    .iter()
                    .any(|p| digits.starts_with(p.trim_start_matches('+'))))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    rules: Vec<Rule>,
    default: String,
}

impl Router {
    pub fn new(rules: Vec<Rule>, default: impl Into<String>) -> Self {
        Self {
            rules,
            default: default.into(),
        }
    }

    /// Every connector a message can be routed to.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default.as_str())
            .chain(self.rules.iter().map(|r| r.connector.as_str()))
    }

    pub fn default_connector(&self) -> &str {
        &self.default
    }

    /// The connector for a message of `account` to `recipient`.
    pub fn route(&self, account: &str, recipient: &str) -> &str {
        self.rules
            .iter()
            .find(|rule| rule.matches(account, recipient))
            .map_or(self.default.as_str(), |rule| rule.connector.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(connector: &str, accounts: &[&str], prefixes: &[&str]) -> Rule {
        Rule {
            connector: connector.into(),
            accounts: accounts.iter().map(|s| s.to_string()).collect(),
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn first_matching_rule_wins_and_default_takes_the_rest() {
        let router = Router::new(
            vec![
                rule("vip", &["acme"], &["49"]),
                rule("german", &[], &["49", "+43"]),
                rule("acme", &["acme"], &[]),
            ],
            "sandbox",
        );
        assert_eq!(router.route("acme", "4917612345678"), "vip");
        assert_eq!(router.route("other", "4917612345678"), "german");
        assert_eq!(router.route("other", "+4917612345678"), "german");
        assert_eq!(router.route("acme", "33612345678"), "acme");
        assert_eq!(router.route("other", "33612345678"), "sandbox");
        assert_eq!(
            router.targets().collect::<Vec<_>>(),
            ["sandbox", "vip", "german", "acme"]
        );
    }

    #[test]
    fn no_rules_route_everything_to_the_default() {
        let router = Router::new(vec![], "smsc1");
        assert_eq!(router.route("any", "4915"), "smsc1");
        assert_eq!(router.default_connector(), "smsc1");
    }
}
