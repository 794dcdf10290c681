//! `public-api-list CRATE.json`: the public items of a crate, one per line, from the rustdoc
//! JSON that `cargo +nightly rustdoc -- -Z unstable-options --output-format json` wrote.
//! Blanket impls (`impl<T> From<T> for T`, ...) and auto-trait impls (`Send`, `Sync`, ...)
//! are left out: they follow from the items themselves, and they would bury a real change.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(json), None) = (args.next(), args.next()) else {
        eprintln!("usage: public-api-list CRATE.json");
        return ExitCode::from(2);
    };
    let api = match public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .omit_auto_trait_impls(true)
        .build()
    {
        Ok(api) => api,
        Err(e) => {
            eprintln!(
                "public-api-list: {}: {e}",
                std::path::Path::new(&json).display()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    for item in api.items() {
        if writeln!(out, "{item}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
