use serde::Deserialize;

use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct State {
    client_id: i64,
    ticket: String,
}

const TICKET: &str = "TICKET-readable-if-leaked";

fn state() -> State {
    State {
        client_id: 42,
        ticket: TICKET.into(),
    }
}

const MINUTE: Duration = Duration::from_secs(60);
const A: &[u8] = &[7; 32];
const B: &[u8] = &[8; 40];

fn sealer() -> Sealer {
    Sealer::new(A).unwrap()
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

fn refused(result: Result<State, Error>, why: Refused) {
    let text = reason(result);
    if why != Refused::WrongFlow {
        assert_eq!(text, why.message(), "expected {why:?}");
    }
}

#[test]
fn round_trips_and_checks_the_kind() {
    let text = sealer().seal("token", state(), MINUTE);
    assert_eq!(sealer().open::<State>("token", &text).unwrap(), state());
    assert!(reason(sealer().open("authorization", &text)).contains("not a authorization flow"));
}

#[test]
fn the_state_is_not_readable() {
    let text = sealer().seal("token", state(), MINUTE);
    let bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
    let shown = String::from_utf8_lossy(&bytes);
    assert!(!shown.contains(TICKET) && !shown.contains("client_id") && !shown.contains("token"));
    // A random nonce: the same state never seals to the same text.
    assert_ne!(text, sealer().seal("token", state(), MINUTE));
}

#[test]
fn any_altered_byte_is_refused() {
    let text = sealer().seal("token", state(), MINUTE);
    let bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(altered);
        let why = match i {
            0 => Refused::Malformed,
            1..=8 => Refused::RetiredKey,
            9..=16 => Refused::WrongCaller,
            _ => Refused::Forged,
        };
        refused(sealer().open("token", &altered), why);
    }
}

#[test]
fn keys_rotate_through_the_ring() {
    let under_a = sealer().seal("token", state(), MINUTE);
    let rotated = Sealer::ring(&[B, A]).unwrap();
    assert_eq!(rotated.open::<State>("token", &under_a).unwrap(), state());
    let under_b = rotated.seal("token", state(), MINUTE);
    refused(sealer().open("token", &under_b), Refused::RetiredKey);
    let retired = Sealer::ring(&[B]).unwrap();
    refused(retired.open("token", &under_a), Refused::RetiredKey);
    assert_eq!(retired.open::<State>("token", &under_b).unwrap(), state());
    refused(
        sealer().open("token", &Sealer::random().seal("token", state(), MINUTE)),
        Refused::RetiredKey,
    );
}

#[test]
fn a_continuation_opens_for_its_own_caller_only() {
    let web = sealer().for_caller("key:web".into());
    let text = web.seal("token", state(), MINUTE);
    assert_eq!(web.open::<State>("token", &text).unwrap(), state());
    let other = sealer().for_caller("key:rs".into());
    refused(other.open("token", &text), Refused::WrongCaller);
    refused(sealer().open("token", &text), Refused::WrongCaller);
}

#[test]
fn single_use_continuations_are_spent_and_others_are_not() {
    let s = sealer();
    let text = s.seal("token", state(), MINUTE);
    for _ in 0..2 {
        assert!(s.open_once_if::<State>("token", &text, |_| false).is_ok());
    }
    assert!(s.open_once_if::<State>("token", &text, |_| true).is_ok());
    // The replay cache is shared by every caller's view of the sealer.
    refused(
        s.for_caller("".into())
            .open_once_if("token", &text, |_| true),
        Refused::Replayed,
    );
    let small = sealer().with_replay_capacity(1);
    let first = small.seal("token", state(), MINUTE);
    let second = small.seal("token", state(), MINUTE);
    assert!(
        small
            .open_once_if::<State>("token", &first, |_| true)
            .is_ok()
    );
    refused(
        small.open_once_if("token", &second, |_| true),
        Refused::ReplayCacheFull,
    );
}

#[test]
fn an_expired_continuation_is_refused() {
    let text = sealer().seal("token", state(), MINUTE);
    assert!(
        sealer()
            .open_at::<State>("token", &text, now() + 59)
            .is_ok()
    );
    refused(
        sealer().open_at("token", &text, now() + 61).map(|(s, _)| s),
        Refused::Expired,
    );
}

#[test]
fn garbage_is_refused_and_bad_rings_are_not_accepted() {
    refused(sealer().open(" ", ""), Refused::Missing);
    for text in ["abc", "abc.def", "!!.!!", &URL_SAFE_NO_PAD.encode([2; 40])] {
        let text = reason(sealer().open("token", text));
        assert!(
            text == Refused::Malformed.message() || text == Refused::RetiredKey.message(),
            "{text}"
        );
    }
    assert!(Sealer::new(&[0; 31]).is_none());
    assert_eq!(
        Sealer::ring(&[A, B, A]).err(),
        Some(RingError::Duplicate { position: 3 })
    );
    assert_eq!(
        Sealer::ring(&[A, &[1; 5]]).err(),
        Some(RingError::Short {
            position: 2,
            len: 5
        })
    );
    assert_eq!(Sealer::ring::<&[u8]>(&[]).err(), Some(RingError::Empty));
}
