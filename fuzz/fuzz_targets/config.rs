//! The standalone gateway's configuration: arbitrary TOML is loaded and checked (the same code
//! `relay config check` runs) without panicking: it is either valid or a list of problems.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../examples/standalone/src/config/mod.rs"]
mod config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = config::from_toml(text, std::path::Path::new("fuzz.toml")) {
        let _ = config::assemble(&parsed, |_| Some("from-the-environment".to_owned()));
    }
});
