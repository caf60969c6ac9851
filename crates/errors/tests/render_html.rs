//! The HTML page of every explained error of the corpus: well-formed, self-contained, headed by
//! the explanation's headline.

// The pictures' helpers of the shared checker are for diagnoses, not explanations.
#[path = "../../core/tests/html_check/mod.rs"]
#[expect(dead_code)]
mod html_check;

use html_check::{check_page, text_of};
use why403_errors::{explain, html as explain_html, parse};

#[test]
fn explained_errors_render_as_self_contained_pages() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/messages");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| !p.to_string_lossy().ends_with(".expect.json"));
    files.sort();
    assert!(!files.is_empty(), "no messages in {}", dir.display());
    let registry = why403_rules::registry();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let p = parse(&text);
        let x = explain(&p, &registry);
        let page = explain_html(&p, &x);
        let doc = check_page(&f.display().to_string(), &page);
        let h1 = doc
            .descendants()
            .find(|n| n.has_tag_name("h1"))
            .map(text_of);
        assert_eq!(
            h1.as_deref().map(|h| h.replace(['`'], "")),
            Some(x.headline.replace('`', "")),
            "{}",
            f.display()
        );
    }
}
