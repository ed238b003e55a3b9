use serde::Deserialize;

use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct State {
    client_id: i64,
    scopes: Vec<String>,
}

fn state() -> State {
    State {
        client_id: 42,
        scopes: vec!["read".into()],
    }
}

const MINUTE: Duration = Duration::from_secs(60);

fn sealer() -> Sealer {
    Sealer::new(&[7; 32]).unwrap()
}

fn reason(result: Result<State, Error>) -> String {
    match result {
        Err(Error::InvalidArgument {
            field: "continuation",
            reason,
        }) => reason,
        other => panic!("expected INVALID_ARGUMENT on continuation, got {other:?}"),
    }
}

#[test]
fn round_trips_and_checks_the_kind() {
    let text = sealer().seal("token", state(), MINUTE);
    assert_eq!(sealer().open::<State>("token", &text).unwrap(), state());
    assert!(reason(sealer().open("authorization", &text)).contains("not a authorization flow"));
}

#[test]
fn an_altered_payload_is_refused() {
    let text = sealer().seal("token", state(), MINUTE);
    let (_, tag) = text.split_once('.').unwrap();
    let forged =
        serde_json::json!({"kind": "token", "exp": u64::MAX, "client_id": 1, "scopes": ["admin"]});
    let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged.to_string()));
    assert!(reason(sealer().open("token", &forged)).contains("altered"));
}

#[test]
fn another_key_is_refused() {
    let text = Sealer::random().seal("token", state(), MINUTE);
    assert!(reason(sealer().open("token", &text)).contains("not handed out by this deployment"));
}

#[test]
fn an_expired_continuation_is_refused() {
    let text = sealer().seal("token", state(), MINUTE);
    assert!(
        sealer()
            .open_at::<State>("token", &text, now() + 59)
            .is_ok()
    );
    assert!(reason(sealer().open_at("token", &text, now() + 61)).contains("expired"));
}

#[test]
fn garbage_is_refused_and_short_keys_are_not_accepted() {
    for text in ["", "abc", "abc.def", "!!.!!"] {
        reason(sealer().open("token", text));
    }
    assert!(Sealer::new(&[0; 31]).is_none());
}
