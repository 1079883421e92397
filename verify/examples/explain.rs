//! `cargo run -p sharpen-verify --example explain -- RESPONSE GOLD`: what each side extracts and
//! why they are (not) equal.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 3 {
        eprintln!("usage: explain RESPONSE GOLD");
        std::process::exit(2);
    }
    print!("{}", sharpen_verify::explain(&a[1], &a[2]));
}
