//! `cargo run -p uniffi-bindgen -- generate --library <lib> --language kotlin --out-dir <dir>`
//!
//! Built from the workspace so the generator always matches the `uniffi` version the
//! `ruhu-ffi` scaffolding was compiled with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
