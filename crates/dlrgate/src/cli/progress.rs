//! Progress bars on stderr for long commands (`bench`, `replay`, `purge`), drawn only when stderr
//! is a terminal: CI logs stay clean and stdout (JSON) is never touched.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting up to `len` items; hidden when stderr is no terminal.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{msg:>14} [{bar:30}] {pos}/{len} ({per_sec}, {elapsed} elapsed, about {eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    attach(ProgressBar::new(len).with_style(style), what)
}

/// A counter for work of unknown size (`purge`); hidden when stderr is no terminal.
pub fn counter(what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {msg}: {pos} ({per_sec}, {elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    attach(ProgressBar::no_length().with_style(style), what)
}

fn attach(bar: ProgressBar, what: &str) -> ProgressBar {
    let target = match std::io::stderr().is_terminal() {
        true => ProgressDrawTarget::stderr(),
        false => ProgressDrawTarget::hidden(),
    };
    bar.set_draw_target(target);
    bar.set_message(what.to_owned());
    bar
}
