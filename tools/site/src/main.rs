//! Two steps of cargo-leptos 0.3.11's release build, alone, so that a fresh
//! machine builds the site without compiling cargo-leptos (9 minutes) or
//! wasm-bindgen-cli (whose test runner brings an HTTP server and client):
//!
//! - `split INPUT.wasm PKG_DIR OUTPUT_NAME`: splits the client's WASM as
//!   cargo-leptos does for `--split` (its `src/wasm_split_tools/mod.rs`): the
//!   lazy-loaded chunks and the loader `__wasm_split.______________________.js`
//!   in the site's pkg directory, the main module beside the input
//!   (`INPUT_split.wasm`), and the prefetch manifest
//!   `__wasm_split_manifest.json` that Leptos's `HydrationScripts` reads.
//!   Prints the chunk files, one per line (for wasm-opt).
//! - `bindgen INPUT.wasm PKG_DIR OUTPUT_NAME`: what cargo-leptos runs
//!   `wasm-bindgen --target=web --keep-lld-exports --no-demangle` for, through
//!   the same library the CLI uses (`OUTPUT_NAME.js`, `OUTPUT_NAME_bg.wasm`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag] if flag == "--version" => {
            println!("imgflush-site {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        [step, input, pkg_dir, name] if step == "split" => split(Path::new(input), Path::new(pkg_dir), name)
            .map(|chunks| chunks.iter().for_each(|chunk| println!("{}", chunk.display()))),
        [step, input, pkg_dir, name] if step == "bindgen" => bindgen(Path::new(input), Path::new(pkg_dir), name),
        _ => {
            eprintln!("usage: imgflush-site split|bindgen INPUT.wasm PKG_DIR OUTPUT_NAME");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("imgflush-site: {error}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &Path, pkg_dir: &Path, output_name: &str) -> Result<Vec<PathBuf>, Error> {
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
        opts.link_name = "./__wasm_split.______________________.js"; // "./" + LOADER
        opts
    })
    .map_err(|e| format!("splitting {}: {e:#}", input.display()))?;
    std::fs::write(pkg_dir.join("__wasm_split_manifest.json"), serde_json::to_string_pretty(&split.prefetch_map)?)?;
    retry_chunk_fetches(&pkg_dir.join(LOADER))?;
    Ok(split.split_modules)
}

/// The loader the split writes (`opts.link_name`).
const LOADER: &str = "__wasm_split.______________________.js";

/// What every lazy chunk's fetch becomes: a chunk whose fetch fails or
/// answers an error status is asked for again (3 tries, 200 and 400 ms
/// apart) before its island gives up, and the last error names the URL and
/// the status. Without it one failed request leaves an island dead (its
/// loader panics) until the page is reloaded.
const RETRYING_FETCH: &str = r#"
// imgflush (tools/site): lazy chunks are fetched with retries.
async function __imgflushFetch(url) {
    let last;
    for (let attempt = 1; attempt <= 3; attempt++) {
        try {
            const resp = await fetch(url);
            if (resp.ok) return resp;
            last = new Error(`${url} answered HTTP ${resp.status} (try ${attempt} of 3)`);
        } catch (e) {
            last = new Error(`${url} could not be fetched (try ${attempt} of 3): ${e}`);
        }
        if (attempt < 3) {
            console.warn(last.message);
            await new Promise((done) => setTimeout(done, 200 * attempt));
        }
    }
    throw last;
}
"#;

/// Rewrites the loader's `fetch(new URL(…))` calls to [`RETRYING_FETCH`];
/// fails when there are none (a new wasm-split template: look at it again).
fn retry_chunk_fetches(loader: &Path) -> Result<(), Error> {
    let js = std::fs::read_to_string(loader).map_err(|e| format!("reading {}: {e}", loader.display()))?;
    let fetch = "fetch(new URL(";
    let calls = js.matches(fetch).count();
    if calls == 0 {
        return Err(format!("{}: no `{fetch}` to make retrying; did the wasm-split template change?", loader.display()).into());
    }
    let rewritten = format!("{}{RETRYING_FETCH}", js.replace(fetch, "__imgflushFetch(new URL("));
    std::fs::write(loader, rewritten)?;
    eprintln!("imgflush-site: {calls} lazy chunk fetches retry on failure");
    Ok(())
}

fn bindgen(input: &Path, pkg_dir: &Path, output_name: &str) -> Result<(), Error> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen.input_path(input).out_name(output_name).keep_lld_exports(true).demangle(false);
    bindgen.web(true).map_err(|e| format!("{e:#}"))?;
    bindgen.generate(pkg_dir).map_err(|e| format!("wasm-bindgen on {}: {e:#}", input.display()))?;
    Ok(())
}
