//! Verified claims picked out of a profile.

use serde_json::json;

use super::*;

fn profile() -> JsonObject {
    let p = json!({"name": "Alice", "verified_claims": [
        {"verification": {"trust_framework": "eidas"},
         "claims": {"given_name": "Alice", "birthdate": "1970-01-23", "nationalities": ["DEU"]}},
        {"verification": {"trust_framework": "de_aml"},
         "claims": {"family_name": "Liddell"}}
    ]});
    p.as_object().unwrap().clone()
}

#[test]
fn an_object_request_gets_the_first_matching_dataset_with_only_the_requested_claims() {
    let request = json!({"verified_claims": {"verification": {"trust_framework": null},
                                              "claims": {"given_name": null, "email": null}}});
    let got = collect(&request.to_string(), &profile(), &[]);
    let expected =
        json!({"verification": {"trust_framework": "eidas"}, "claims": {"given_name": "Alice"}});
    assert_eq!(got.claims, Some(expected));
    assert!(got.for_tx.is_empty());
}

#[test]
fn trust_framework_constraints_pick_the_dataset_and_unanswered_elements_are_left_out() {
    let request = json!({"verified_claims": [
        {"verification": {"trust_framework": {"value": "de_aml"}}, "claims": {"family_name": null}},
        {"verification": {"trust_framework": {"values": ["uk_tfida"]}}, "claims": {"given_name": null}},
        {"verification": {"trust_framework": null}, "claims": {"email": null}}
    ]});
    let got = collect(&request.to_string(), &profile(), &[]);
    let expected = json!([{"verification": {"trust_framework": "de_aml"}, "claims": {"family_name": "Liddell"}}]);
    assert_eq!(got.claims, Some(expected));
}

#[test]
fn claims_for_tx_follow_the_answered_elements_in_either_name_shape() {
    let request = json!({"verified_claims": [
        {"verification": {"trust_framework": {"value": "eidas"}}, "claims": {"given_name": null}},
        {"verification": {"trust_framework": {"value": "nowhere"}}, "claims": {"given_name": null}}
    ]});
    let for_tx = [
        json!({"array": ["birthdate", "nationalities"]}),
        json!(["x"]),
    ];
    let got = collect(&request.to_string(), &profile(), &for_tx);
    let tx: Vec<serde_json::Value> = got
        .for_tx
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    assert_eq!(
        tx,
        vec![json!({"birthdate": "1970-01-23", "nationalities": ["DEU"]})]
    );
    let plain = collect(&request.to_string(), &profile(), &[json!(["birthdate"])]);
    assert_eq!(
        plain.for_tx,
        vec![r#"{"birthdate":"1970-01-23"}"#.to_owned()]
    );
}

#[test]
fn no_request_no_profile_data_or_no_requested_claims_collect_nothing() {
    let none = Collected::default();
    assert_eq!(collect("", &profile(), &[]), none);
    assert_eq!(collect(r#"{"email":null}"#, &profile(), &[]), none);
    let request = json!({"verified_claims": {"claims": {"given_name": null}}}).to_string();
    assert_eq!(collect(&request, &JsonObject::new(), &[]), none);
    let no_claims = json!({"verified_claims": {"verification": {}}}).to_string();
    assert_eq!(collect(&no_claims, &profile(), &[]), none);
}

#[test]
fn merge_adds_verified_claims_next_to_the_plain_ones() {
    let request = json!({"verified_claims": {"claims": {"family_name": null}}}).to_string();
    let got = collect(&request, &profile(), &[]);
    let mut plain = JsonObject::new();
    plain.insert("name".into(), "Alice".into());
    let merged = merge(plain, &got);
    assert_eq!(merged["name"], "Alice");
    assert_eq!(
        merged["verified_claims"]["claims"],
        json!({"family_name": "Liddell"})
    );
}
