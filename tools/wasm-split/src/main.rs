//! Splits the client's WASM the way cargo-leptos 0.3.11 does for `--split`
//! (its `src/wasm_split_tools/mod.rs`): lazy-loaded chunks and the loader
//! `__wasm_split.______________________.js` in the site's pkg directory,
//! the main module next to the input for wasm-bindgen, and the prefetch
//! manifest `__wasm_split_manifest.json` that Leptos's `HydrationScripts`
//! reads. Prints the chunk files, one per line (for wasm-opt).
//!
//! Usage: imgflush-wasm-split INPUT.wasm PKG_DIR OUTPUT_NAME

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("imgflush-wasm-split {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let [input, pkg_dir, output_name] = args.as_slice() else {
        eprintln!("usage: imgflush-wasm-split INPUT.wasm PKG_DIR OUTPUT_NAME");
        return ExitCode::from(2);
    };
    match split(Path::new(input), Path::new(pkg_dir), output_name) {
        Ok(chunks) => {
            for chunk in chunks {
                println!("{}", chunk.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("imgflush-wasm-split: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &Path, pkg_dir: &Path, output_name: &str) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let wasm = std::fs::read(input).map_err(|e| format!("reading {}: {e}", input.display()))?;
    let stem = input.file_stem().and_then(|s| s.to_str()).ok_or("the input has no file name")?;
    let main_out = input.with_file_name(format!("{stem}_split.wasm"));
    let main_module = format!("./{output_name}.js");
    std::fs::create_dir_all(pkg_dir)?;
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&wasm);
        opts.output_dir = pkg_dir;
        opts.main_out_path = &main_out;
        opts.main_module = &main_module;
        opts.link_name = "./__wasm_split.______________________.js";
        opts
    })
    .map_err(|e| format!("splitting {}: {e:#}", input.display()))?;
    std::fs::write(
        pkg_dir.join("__wasm_split_manifest.json"),
        serde_json::to_string_pretty(&split.prefetch_map)?,
    )?;
    Ok(split.split_modules)
}
