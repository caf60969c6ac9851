//! `why403 rules`: lists the registered rules, or prints one rule's documentation.

use std::process::ExitCode;

use anyhow::bail;
use why403_core::rule::RuleMeta;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A rule id (`bucket-policy-explicit-deny` or `builtin/bucket-policy-explicit-deny`);
    /// without it, every rule is listed.
    id: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let registry = why403_rules::registry();
    let Some(id) = &args.id else {
        let mut metas: Vec<&RuleMeta> = registry.rules().iter().map(|r| r.meta()).collect();
        metas.sort_by_key(|m| full_id(m));
        crate::output::print(&table(&metas))?;
        return Ok(ExitCode::SUCCESS);
    };
    let Some(rule) = registry.get(id) else {
        bail!("no rule `{id}`; `why403 rules` lists them");
    };
    crate::output::print(&doc(rule.meta()))?;
    Ok(ExitCode::SUCCESS)
}

/// One rule's documentation as `why403 rules ID` prints it (Markdown).
pub(crate) fn doc(m: &RuleMeta) -> String {
    format!(
        "# {}\n\n{}\n\nLayer: `{}`\n\n{}\n",
        full_id(m),
        m.summary,
        m.layer,
        m.docs_markdown().trim()
    )
}

/// `scope/id`.
pub(crate) fn full_id(m: &RuleMeta) -> String {
    format!("{}/{}", m.scope, m.id)
}

/// Id, layer and summary in aligned columns, with a header row.
fn table(metas: &[&RuleMeta]) -> String {
    let rows: Vec<[String; 3]> =
        std::iter::once(["ID".to_owned(), "LAYER".to_owned(), "SUMMARY".to_owned()])
            .chain(
                metas
                    .iter()
                    .map(|m| [full_id(m), m.layer.to_string(), m.summary.to_owned()]),
            )
            .collect();
    let w0 = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].len()).max().unwrap_or(0);
    rows.iter()
        .map(|[id, layer, summary]| format!("{id:<w0$}  {layer:<w1$}  {summary}\n"))
        .collect()
}
