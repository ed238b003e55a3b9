//! The store's bounds.

use super::*;

#[test]
fn tables_expire_and_take_once() {
    let mut t: Table<u8> = Table::default();
    t.insert("a".into(), 1, 100, 0);
    assert_eq!(t.get("a", 50).map(|(v, _)| *v), Some(1));
    assert!(t.get("a", 100).is_none());
    assert_eq!(t.take("a", 50), Some(1));
    assert_eq!(t.take("a", 50), None);
}

fn limits(objects: usize, request: usize, store: usize) -> Limits {
    Limits {
        max_live_objects: objects,
        max_request_bytes: request,
        max_store_bytes: store,
    }
}

#[test]
fn the_cap_holds_until_a_sweep_frees_room() {
    let store = Store::new(limits(2, 100, 1 << 20));
    let mut s = store.lock();
    for key in ["a", "b"] {
        s.room(0, 0).unwrap();
        s.codes.insert(key.to_owned(), CodeState::Used(1), 10, 0);
    }
    assert!(matches!(s.room(5, 0), Err(Fault::Full(Full::Objects(2)))));
    // A full store is swept at most once a second of engine time.
    assert!(s.room(10, 0).is_err(), "swept at 5, not again at 10");
    assert_eq!(s.live(), 2);
    assert!(s.room(1005, 0).is_ok());
    assert_eq!((s.live(), s.bytes()), (0, 0));
}

#[test]
fn bytes_are_bounded_per_entry_and_in_total_and_given_back() {
    let total = 3 * weight("k0", 1000);
    let store = Store::new(limits(100, 1000, total));
    let mut s = store.lock();
    assert!(matches!(s.room(0, 1001), Err(Fault::TooLarge(1000))));
    for key in ["k0", "k1", "k2"] {
        s.room(0, 1000).unwrap();
        s.rotated.insert(key.to_owned(), 1, 50, 1000);
    }
    assert_eq!(s.bytes(), total);
    assert!(matches!(s.room(1, 1), Err(Fault::Full(Full::Bytes(t))) if t == total));
    assert_eq!(s.rotated.take("k0", 1), Some(1));
    assert_eq!(s.bytes(), 2 * weight("k0", 1000));
    assert!(s.room(1, 1000).is_ok());
    s.sweep(50);
    assert_eq!(s.bytes(), 0, "expired entries give their bytes back");
}
