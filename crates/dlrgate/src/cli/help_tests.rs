//! Every command's help ends with examples, and every example parses with the real parser, so
//! the examples cannot rot.

use clap::{CommandFactory, Parser};

use super::Cli;

/// Each command path (`["dlrgate", "account", "create"]`) with its `--help` text.
fn every_command() -> Vec<(Vec<String>, String)> {
    fn walk(command: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        let help = command
            .get_after_help()
            .map(|text| text.to_string())
            .unwrap_or_default();
        out.push((path.clone(), help));
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = path.clone();
            path.push(sub.get_name().to_owned());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), vec!["dlrgate".to_owned()], &mut out);
    out
}

/// The example command lines of a help text: the indented `dlrgate …` lines after "Examples:".
fn examples(help: &str) -> Vec<Vec<String>> {
    help.split_once("Examples:")
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .lines()
        .skip(1)
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("dlrgate"))
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_tree_has_every_command() {
    let paths: Vec<String> = every_command()
        .into_iter()
        .map(|(path, _)| path.join(" "))
        .collect();
    for expected in [
        "dlrgate serve",
        "dlrgate account create",
        "dlrgate key revoke",
    ] {
        assert!(
            paths.contains(&expected.to_owned()),
            "{expected} in {paths:?}"
        );
    }
}

#[test]
fn every_command_shows_examples() {
    for (path, help) in every_command() {
        let found = examples(&help);
        assert!(
            !found.is_empty(),
            "`{} --help` has no Examples section: {help:?}",
            path.join(" ")
        );
    }
}

#[test]
fn every_example_parses_and_runs_the_command_it_documents() {
    for (path, help) in every_command() {
        for example in examples(&help) {
            let line = example.join(" ");
            // Examples are split on whitespace, so they must not need a shell's quoting.
            assert!(!line.contains(['"', '\'']), "quoted example: {line}");
            assert!(
                example.starts_with(&path),
                "`{}` documents {line}",
                path.join(" ")
            );
            if let Err(error) = Cli::try_parse_from(&example) {
                panic!("example `{line}` does not parse:\n{error}");
            }
        }
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let error = Cli::try_parse_from(["dlrgate", "serve", "--no-such-flag"])
        .expect_err("an unknown flag is refused");
    assert_eq!(error.exit_code(), 2);
}
