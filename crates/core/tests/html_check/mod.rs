//! A strict check of an HTML page as why403 writes it: well-formed XML (every element closed,
//! attributes quoted, only the XML character references), self-contained (no element that
//! loads or links anything, no attribute naming a URL, no `url(` or `@import` in the style,
//! no event handler), and the deciding layers of each evaluation path picture. Shared by the
//! tests of core and of the command line (`#[path]`).

use roxmltree::{Document, Node};

/// Elements a self-contained page without script never holds.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "link",
    "img",
    "iframe",
    "object",
    "embed",
    "base",
    "a",
    "form",
    "audio",
    "video",
    "source",
    "use",
    "image",
    "foreignObject",
    "meta-refresh",
];
/// Attributes that load or link something.
const FORBIDDEN_ATTRIBUTES: &[&str] = &[
    "src",
    "href",
    "srcset",
    "action",
    "formaction",
    "poster",
    "data",
    "background",
    "ping",
];

fn external(v: &str) -> bool {
    let v = v.to_ascii_lowercase();
    v.contains("http:")
        || v.contains("https:")
        || v.trim_start().starts_with("//")
        || v.contains("url(")
}

/// Parses the page strictly and checks that it is self-contained; panics with `what` and the
/// reason otherwise.
pub fn check_page<'a>(what: &str, html: &'a str) -> Document<'a> {
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{what}: the page does not start with the HTML5 doctype"
    );
    let doc = Document::parse(html)
        .unwrap_or_else(|e| panic!("{what}: the page is not well-formed: {e}"));
    for n in doc.descendants().filter(Node::is_element) {
        let tag = n.tag_name().name();
        assert!(
            !FORBIDDEN_ELEMENTS.contains(&tag),
            "{what}: the page has a <{tag}> element"
        );
        for a in n.attributes() {
            let name = a.name().to_ascii_lowercase();
            assert!(
                !FORBIDDEN_ATTRIBUTES.contains(&name.as_str()) && !name.starts_with("on"),
                "{what}: <{tag}> has the attribute `{name}`"
            );
            assert!(
                !external(a.value()),
                "{what}: <{tag} {name}=\"{}\"> names an external reference",
                a.value()
            );
        }
        if tag == "style" {
            let css = n.text().unwrap_or_default().to_ascii_lowercase();
            assert!(
                !css.contains("url(") && !css.contains("@import") && !external(&css),
                "{what}: the style loads something: {css}"
            );
        }
    }
    doc
}

/// All the text of an element, its descendants' included.
pub fn text_of(n: Node<'_, '_>) -> String {
    n.descendants()
        .filter(Node::is_text)
        .filter_map(|d| d.text())
        .collect()
}

/// The evaluation path picture of the check `index` (`svg` with ids `path-<index>-...`).
pub fn path_picture<'a>(doc: &'a Document<'a>, index: usize) -> Option<Node<'a, 'a>> {
    let want = format!("path-{index}-t");
    doc.descendants().find(|n| {
        n.has_tag_name("svg")
            && n.attribute("aria-labelledby")
                .is_some_and(|a| a.split(' ').any(|id| id == want))
    })
}

/// The layers a picture frames as deciding: the names of the step groups holding a `dec`
/// frame, taken from their titles (`<layer>: <state> — <why> (deciding)`).
pub fn deciding_layers(svg: Node<'_, '_>) -> Vec<String> {
    svg.descendants()
        .filter(|g| {
            g.has_tag_name("g")
                && g.attribute("class").is_some_and(|c| c.starts_with("step-"))
                && g.children()
                    .any(|r| r.has_tag_name("rect") && r.attribute("class") == Some("dec"))
        })
        .filter_map(|g| {
            let title = g.children().find(|t| t.has_tag_name("title"))?;
            let text = text_of(title);
            assert!(
                text.ends_with("(deciding)"),
                "a framed step does not say it decides: {text}"
            );
            Some(text.split(": ").next().unwrap_or_default().to_owned())
        })
        .collect()
}
