//! PC/SC against a real pcscd with the virtual readers of Debian vsmartcard-vpcd and a
//! virtual card (vicc) inserted and removed by bhxh-testkit's pcsc rig (a pcscd of this
//! test's own, on its own socket and ports): the reader list, the ATR, and the watcher's
//! insertion and removal events.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure

use std::sync::mpsc;
use std::time::{Duration, Instant};

use bhxh_testkit::pcsc::Pcscd;
use bhxh_token::readers::{readers, ReaderEvent, Watcher};

const READER: &str = "Virtual PCD 00 00";
const VIRTUAL_ATR: &str = "3B:95:13:81:01:80:73:FF:01:00:0B";

/// The next event `want`s, and when the watcher delivered it.
fn next_event(
    rx: &mpsc::Receiver<(ReaderEvent, Instant)>,
    want: impl Fn(&ReaderEvent) -> bool,
) -> (ReaderEvent, Instant) {
    let start = Instant::now();
    loop {
        let left = Duration::from_secs(60).checked_sub(start.elapsed()).expect("no such event within 60 s");
        let (e, at) = rx.recv_timeout(left).expect("no such event within 60 s");
        if want(&e) {
            return (e, at);
        }
    }
}

#[test]
fn readers_atr_and_hot_plug_events() {
    // Before anything here uses PC/SC: it points this process's libpcsclite at its socket.
    let pcscd = Pcscd::start();
    let names = pcscd.readers().join("\n");
    assert!(names.contains(READER), "{names}");

    let list = readers().expect("PC/SC answers");
    let r = list.iter().find(|r| r.name == READER).expect("the virtual reader is listed");
    assert!(!r.card_present);

    let (tx, rx) = mpsc::channel();
    let watcher = Watcher::start(move |e| {
        let _ = tx.send((e, Instant::now()));
    });
    next_event(&rx, |e| matches!(e, ReaderEvent::ReaderAdded { reader } if reader == READER));

    // Figures, not assertions: from starting the virtual card (Python vicc connecting to
    // vpcd, pcscd polling it) to the watcher's callback, and to the harness seeing the
    // card through pcscd itself.
    let start = Instant::now();
    let card = pcscd.insert(0);
    let harness_saw = start.elapsed();
    assert_eq!(card.reader(), READER);
    assert_eq!(card.atr(), VIRTUAL_ATR.replace(':', ""));
    let (e, at) = next_event(&rx, |e| matches!(e, ReaderEvent::CardInserted { .. }));
    eprintln!(
        "insertion: the watcher's callback {} ms after the virtual card was started; the harness saw it in pcscd after {} ms",
        at.duration_since(start).as_millis(),
        harness_saw.as_millis()
    );
    match e {
        ReaderEvent::CardInserted { reader, atr, model } => {
            assert_eq!(reader, READER);
            assert_eq!(atr, VIRTUAL_ATR);
            assert!(model.unwrap_or_default().contains("Virtual smart card"));
        }
        other => panic!("{other:?}"),
    }
    let list = readers().unwrap();
    let r = list.iter().find(|r| r.name == READER).unwrap();
    assert!(r.card_present);
    assert_eq!(r.atr.as_deref(), Some(VIRTUAL_ATR));

    let start = Instant::now();
    card.remove();
    let (e, at) = next_event(&rx, |e| matches!(e, ReaderEvent::CardRemoved { .. }));
    eprintln!(
        "removal: the watcher's callback {} ms after the virtual card was stopped",
        at.duration_since(start).as_millis()
    );
    assert_eq!(e, ReaderEvent::CardRemoved { reader: READER.into() });

    // Insert again: the watcher keeps working after a removal.
    let card = pcscd.insert(0);
    next_event(&rx, |e| matches!(e, ReaderEvent::CardInserted { .. }));
    card.remove();
    drop(watcher);
    drop(pcscd);
}
