//! Many matching deny statements give bounded output: each `still denied by` list and each
//! finding's `also:` notes name at most `MAX_LISTED` entries and count the rest, and a fix
//! verified without analysing the upload again (another deny statement it leaves still
//! decides) says what analysing again says. The time is measured by the `many_denies`
//! benchmark, not here.

#[path = "data/many_denies.rs"]
mod data;

use data::Denies;

use why403_core::finding::{Diagnosis, MAX_LISTED, Verification, diagnose, verify};
use why403_core::render::{HumanOptions, human, json, json_text};

const N: usize = 40;

fn diagnosed(in_bucket: bool, denies: Denies) -> Diagnosis {
    let text = data::scenario(N, in_bucket, denies);
    let s = why403_fixtures_source::parse("many.json", &text)
        .unwrap_or_else(|e| panic!("the generated scenario does not load: {e}"));
    diagnose(s.request, s.evidence, &why403_rules::registry())
}

#[test]
fn every_deny_is_a_cause_still_denied_by_a_bounded_list_of_the_others() {
    for in_bucket in [true, false] {
        let d = diagnosed(in_bucket, Denies::Unconditional);
        let fixes: Vec<_> = d.findings.iter().filter_map(|f| f.fix.as_ref()).collect();
        // With the denies in an identity policy, the example's own bucket policy deny stays.
        let others = if in_bucket { N - 1 } else { N };
        assert_eq!(fixes.len(), others + 1, "in_bucket {in_bucket}");
        for fix in fixes {
            let Verification::StillDenied { by } = &fix.verified else {
                panic!("{:?}", fix.verified);
            };
            assert_eq!(by.len(), MAX_LISTED + 1, "{by:?}");
            assert_eq!(
                by.last().map(String::as_str),
                Some(format!("and {} more", others - MAX_LISTED).as_str())
            );
            // Verified without analysing again, as analysing again verifies it.
            assert_eq!(fix.verified, verify(&d.analysis, &fix.changes));
        }
        // Output grows with the statements, not with their square.
        let out = human(&d, &HumanOptions::new(false));
        // Each cause's fix shows its diff and command: a few lines per statement.
        assert!(out.len() < N * 4_000, "{} bytes", out.len());
        // After-documents are given for the first fixes of a document only.
        let j = json_text(&json(&d)).len();
        assert!(j < N * 8_000, "{j} json bytes");
    }
}

#[test]
fn denies_with_the_same_fix_are_one_cause_with_bounded_notes() {
    let d = diagnosed(true, Denies::SameHeader);
    let causes: Vec<_> = d.findings.iter().filter(|f| f.fix.is_some()).collect();
    assert_eq!(causes.len(), 1, "{causes:#?}");
    let also: Vec<&String> = causes[0]
        .notes
        .iter()
        .filter(|n| n.starts_with("also: "))
        .collect();
    assert_eq!(also.len(), MAX_LISTED + 1, "{also:?}");
    assert_eq!(
        also.last().map(|s| s.as_str()),
        Some(
            format!(
                "also: {} more findings with the same fix",
                N - 1 - MAX_LISTED
            )
            .as_str()
        )
    );
    assert_eq!(d.superseded.len(), N - 1);
}

#[test]
fn denies_each_fixed_by_its_own_header_are_each_verified_still_denied() {
    let d = diagnosed(true, Denies::HeaderEach);
    let fixes: Vec<_> = d.findings.iter().filter_map(|f| f.fix.as_ref()).collect();
    assert_eq!(fixes.len(), N);
    for fix in fixes {
        let Verification::StillDenied { by } = &fix.verified else {
            panic!("{:?}", fix.verified);
        };
        assert_eq!(by.len(), MAX_LISTED + 1, "{by:?}");
    }
}
