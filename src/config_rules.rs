//! Rules about shiplint's own inputs (`config/…`): the trust boundary and
//! the exemptions report them, the packs do not. Defined here, below both,
//! so the rule list and the config's validation need neither.

use crate::finding::{Rule, Severity};

/// Every `config/…` rule (listed with the packs' rules).
pub fn rules() -> Vec<&'static Rule> {
    vec![&CONFIG_PR_CHANGE, &EXEMPTION_EXPIRED]
}

const PR_CHANGE_HELP: &str = r#"
## What it finds
A pull request that changes shiplint's config file (`.shiplint.yaml`). The
finding says what the change would do ("it would turn off secrets/*; exclude
'**'; fail on never"); it takes effect once the change is merged.

## Why it matters
In a pull-request run shiplint reads its config from the base branch, never
from the pull request: otherwise a pull request could switch off the checks on
its own changes (`rules: {secrets/*: off}`, `exclude: ["**"]`) or raise the
review's budget. The change is therefore not applied in this run, and a
reviewer should see it.

## How to fix

Nothing to fix if the change is intended: review it like any change to CI
settings, and merge it. The finding sits on the first changed line.
"#;

/// `config/pr-change`: the trust boundary (src/trust.rs) reports it.
pub static CONFIG_PR_CHANGE: Rule = Rule::new(
    "config/pr-change",
    Severity::Warning,
    "A pull request changes shiplint's config: the base's config applies until it is merged",
    PR_CHANGE_HELP,
)
.tags(&["security", "config"])
.precision("very-high");

/// `config/exemption-expired`: reported when exemptions apply (src/exempt.rs).
pub static EXEMPTION_EXPIRED: Rule = Rule::new(
    "config/exemption-expired",
    Severity::Warning,
    "An exemption in the config has expired: it no longer silences its findings",
    r#"
## What it finds
An entry of `exemptions:` in `.shiplint.yaml` whose `expires:` date has passed.
From that day on it silences nothing: the findings it covered are reported
again, and this finding names the entry.

## Why it matters
An exemption is a risk the team accepted for a time, with a reason. When the
time is up, someone has to look again: either the cause is fixed, or the
acceptance is renewed on purpose, with a reason that is still true.

## How to fix
Fix what the exemption covered, or, if the risk is still accepted, renew it
with a new date and an up-to-date reason:
```yaml
exemptions:
  - rules: [practices/run-as-root]
    kind: Deployment
    name: legacy
    container: sidecar
    reason: the vendor image runs as root; OPS-12
    expires: "2027-06-30"
```
"#,
)
.tags(&["config"])
.precision("very-high");
