//! Scenario files <-> Evidence (see the scenario issue); empty until then.
