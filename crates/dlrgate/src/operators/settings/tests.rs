//! Loading `[[connectors]]` and `[routing]` from a file, and what validation refuses.

#![allow(clippy::unwrap_used, clippy::result_large_err)]

use super::*;
use crate::config::{Overrides, Settings};

fn load(toml: &str) -> Result<Settings, String> {
    let mut result = Err(String::new());
    figment::Jail::expect_with(|jail| {
        jail.create_file("dlrgate.toml", toml)?;
        let overrides = Overrides {
            config_file: Some("dlrgate.toml".into()),
            ..Overrides::default()
        };
        result = Settings::load(&overrides).map_err(|e| e.to_string());
        Ok(())
    });
    result
}

#[test]
fn the_documented_minimal_smpp_route_loads() {
    let settings = load(
        r#"
        [[connectors]]
        name = "smsc1"
        type = "smpp"
        host = "127.0.0.1"
        port = 2775
        system_id = "dlrgate"
        password = "secret"
        submit_id_format = "hex"
        receipt_id_format = "decimal"
        [routing]
        default = "smsc1"
        "#,
    )
    .unwrap();
    let ConnectorSettings::Smpp(smpp) = &settings.connectors[0] else {
        panic!("not smpp: {:?}", settings.connectors);
    };
    assert_eq!((smpp.port, smpp.binds, smpp.window), (2775, 1, 10));
    assert_eq!(smpp.receipt_queue, 4096);
    assert_eq!(smpp.submit_id_format, IdFormat::Hex);
    assert_eq!(smpp.receipt_id_format, IdFormat::Decimal);
    assert_eq!(settings.routing.router().route("acme", "4915"), "smsc1");
    assert!(!settings.to_pretty_json().contains("\"password\""));
}

#[test]
fn without_connectors_everything_goes_to_the_sandbox() {
    let settings = load("").unwrap();
    assert!(settings.connectors.is_empty());
    assert_eq!(settings.routing.router().route("a", "49"), SANDBOX);
}

#[test]
fn routes_to_unknown_or_receive_only_connectors_are_refused() {
    let error = load("[routing]\ndefault = \"nowhere\"").unwrap_err();
    assert!(error.contains("nowhere"), "{error}");
    let error = load(
        "[[connectors]]\nname = \"jasmin\"\ntype = \"http\"\nformat = \"jasmin\"\ntoken = \"t\"\n[routing]\ndefault = \"jasmin\"",
    )
    .unwrap_err();
    assert!(error.contains("only receives"), "{error}");
    let error = load(
        "[[connectors]]\nname = \"a\"\ntype = \"sandbox\"\n[[connectors]]\nname = \"a\"\ntype = \"sandbox\"",
    )
    .unwrap_err();
    assert!(error.contains("twice"), "{error}");
    let error = load("[[connectors]]\nname = \"x\"\ntype = \"smpp\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"\nsubmit_id_format = \"octal\"").unwrap_err();
    assert!(error.contains("octal"), "{error}");
    let error = load("[[connectors]]\nname = \"x\"\ntype = \"smpp\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"\nreceipt_queue = 0").unwrap_err();
    assert!(
        error.contains("receipt_queue must be at least 1"),
        "{error}"
    );
}

#[test]
fn fallbacks_must_send_and_must_not_go_round_in_circles() {
    let smpp = |name: &str, extra: &str| {
        format!(
            "[[connectors]]\nname = \"{name}\"\ntype = \"smpp\"\nhost = \"h\"\nport = 1\nsystem_id = \"s\"\npassword = \"p\"\n{extra}\n"
        )
    };
    let circle = smpp("a", "fallback = \"b\"") + &smpp("b", "fallback = \"a\"");
    let error = load(&circle).unwrap_err();
    assert!(error.contains("circle"), "{error}");
    let to_self = smpp("a", "fallback = \"a\"");
    assert!(load(&to_self).unwrap_err().contains("circle"));
    let to_receiver = smpp("a", "fallback = \"r\"") + &smpp("r", "bind = \"receiver\"");
    let error = load(&to_receiver).unwrap_err();
    assert!(error.contains("cannot send"), "{error}");
    let route_to_receiver = smpp("r", "bind = \"receiver\"") + "[routing]\ndefault = \"r\"";
    assert!(
        load(&route_to_receiver)
            .unwrap_err()
            .contains("only receives")
    );
    let chain = smpp("a", "fallback = \"b\"") + &smpp("b", "fallback = \"sandbox\"");
    assert!(load(&chain).is_ok());
}
