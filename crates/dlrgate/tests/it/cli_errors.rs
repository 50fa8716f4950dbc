//! The real binary's errors say what went wrong and what to do, on stderr, with exit code 1
//! (2 for a usage error, as clap answers), and nothing on stdout.

#![allow(clippy::unwrap_used)]

use crate::cli_ops::failure;
use crate::helpers::binary::account_create;

#[test]
fn unknown_account_and_hook_ids_say_how_to_list_them() {
    let data = tempfile::tempdir().unwrap();
    let store = ["--data", data.path().to_str().unwrap()];
    account_create(data.path(), "acme", &[]);

    let no_account = failure(&["hooks", "--account", "nobody"], &store, 1);
    let no_hook = failure(&["replay", "--hook", "99", "--since", "1h"], &store, 1);
    let no_toggle = failure(&["hooks", "disable", "99"], &store, 1);
    let no_key = failure(&["key", "create", "nobody"], &store, 1);

    assert!(no_account.contains("no account \"nobody\""), "{no_account}");
    assert!(no_account.contains("dlrgate account list"), "{no_account}");
    assert!(
        no_hook.contains("no hook 99") && no_hook.contains("dlrgate hooks"),
        "{no_hook}"
    );
    assert!(no_toggle.contains("dlrgate hooks"), "{no_toggle}");
    assert!(no_key.contains("dlrgate account list"), "{no_key}");
}

#[test]
fn usage_errors_exit_with_2() {
    let missing = failure(&["replay", "--hook", "1"], &[], 2);
    let unknown = failure(&["status", "--no-such-flag"], &[], 2);
    let bad_time = failure(&["replay", "--hook", "1", "--since", "yesterday"], &[], 2);

    assert!(missing.contains("--since"), "{missing}");
    assert!(unknown.contains("--no-such-flag"), "{unknown}");
    assert!(bad_time.contains("neither a duration"), "{bad_time}");
}

#[test]
fn a_store_that_cannot_be_opened_names_the_path_and_what_to_check() {
    // A regular file where the data directory should be.
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().to_str().unwrap();

    let stderr = failure(&["status"], &["--data", path], 1);

    assert!(stderr.contains(path), "{stderr}");
    assert!(stderr.contains("--data"), "{stderr}");
}

#[test]
fn an_unreachable_postgres_names_the_server_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://dlrgate:hunter2@127.0.0.1:1/dlrgate";

    let stderr = failure(&["status"], &["--database-url", url], 1);

    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(stderr.contains("is PostgreSQL running"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is not shown: {stderr}"
    );
}

#[test]
fn a_config_error_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dlrgate.toml");
    std::fs::write(&config, "[webhook]\nno_such_key = 1\n").unwrap();

    let stderr = failure(
        &["check-config"],
        &["--config", config.to_str().unwrap()],
        1,
    );

    assert!(stderr.contains("no_such_key"), "{stderr}");
}
