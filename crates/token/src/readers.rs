//! PC/SC: readers, card presence, ATRs, and a watcher that reports insertion and
//! removal (SCardGetStatusChange with the PnP notification reader) to a subscriber.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pcsc::{Context, ReaderState, Scope, State, PNP_NOTIFICATION};
use serde::Serialize;

use crate::atr::{format_atr, identify};
use crate::TokenError;

/// A reader and what is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReaderStatus {
    pub name: String,
    pub card_present: bool,
    /// `3B:9F:…`, when a card is present.
    pub atr: Option<String>,
    /// The model the ATR names, if known.
    pub model: Option<String>,
}

/// A change a subscriber is told about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReaderEvent {
    ReaderAdded {
        reader: String,
    },
    ReaderRemoved {
        reader: String,
    },
    CardInserted {
        reader: String,
        atr: String,
        model: Option<String>,
    },
    CardRemoved {
        reader: String,
    },
    /// The PC/SC service went away (or never was); the watcher keeps retrying.
    ServiceUnavailable,
}

/// The readers now, with card presence and ATR.
pub fn readers() -> Result<Vec<ReaderStatus>, TokenError> {
    let ctx = establish()?;
    let mut states: Vec<ReaderState> = list(&ctx)?.into_iter().map(|n| ReaderState::new(n, State::UNAWARE)).collect();
    if states.is_empty() {
        return Ok(Vec::new());
    }
    match ctx.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(pcsc::Error::Timeout) => {}
        Err(e) => return Err(map(e)),
    }
    Ok(states.iter().map(status_of).collect())
}

fn list(ctx: &Context) -> Result<Vec<CString>, TokenError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map(e)),
    }
}

fn status_of(rs: &ReaderState) -> ReaderStatus {
    let present = rs.event_state().contains(State::PRESENT);
    let atr = (present && !rs.atr().is_empty()).then(|| rs.atr());
    ReaderStatus {
        name: rs.name().to_string_lossy().into_owned(),
        card_present: present,
        atr: atr.map(format_atr),
        model: atr.and_then(identify).map(|m| m.name.to_string()),
    }
}

/// Watches readers on its own thread until dropped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Watcher {
    /// Starts watching. `on_event` first hears the readers and cards present now, then
    /// every change. The thread wakes at least every `poll` to notice a stop request.
    pub fn start(mut on_event: impl FnMut(ReaderEvent) + Send + 'static) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("pcsc-watcher".into())
            .spawn(move || {
                let mut service_down = false;
                while !flag.load(Ordering::Relaxed) {
                    match establish() {
                        Ok(ctx) => {
                            service_down = false;
                            if watch(&ctx, &flag, &mut on_event).is_err() && !flag.load(Ordering::Relaxed) {
                                on_event(ReaderEvent::ServiceUnavailable);
                            }
                        }
                        Err(_) if !service_down => {
                            service_down = true;
                            on_event(ReaderEvent::ServiceUnavailable);
                        }
                        Err(_) => {}
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
            .ok();
        Watcher { stop, handle }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

const POLL: Duration = Duration::from_millis(250);

fn watch(ctx: &Context, stop: &AtomicBool, on_event: &mut impl FnMut(ReaderEvent)) -> Result<(), TokenError> {
    let pnp = PNP_NOTIFICATION().to_owned();
    let mut states = vec![ReaderState::new(pnp.clone(), State::UNAWARE)];
    let mut present: Vec<(String, bool)> = Vec::new();
    let mut relist = true;
    while !stop.load(Ordering::Relaxed) {
        if relist {
            let names = list(ctx)?;
            for n in &names {
                if !states.iter().any(|s| s.name() == n.as_c_str()) {
                    states.push(ReaderState::new(n.clone(), State::UNAWARE));
                    on_event(ReaderEvent::ReaderAdded { reader: n.to_string_lossy().into_owned() });
                }
            }
            states.retain(|s| {
                let keep = s.name() == pnp.as_c_str() || names.iter().any(|n| n.as_c_str() == s.name());
                if !keep {
                    let reader = s.name().to_string_lossy().into_owned();
                    on_event(ReaderEvent::ReaderRemoved { reader: reader.clone() });
                    present.retain(|(r, _)| *r != reader);
                }
                keep
            });
            relist = false;
        }
        match ctx.get_status_change(POLL, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => continue,
            Err(pcsc::Error::UnknownReader) => {
                relist = true;
                continue;
            }
            Err(e) => return Err(map(e)),
        }
        for s in &mut states {
            if s.name() == pnp.as_c_str() {
                if s.event_state().contains(State::CHANGED) {
                    relist = true;
                }
            } else if s.event_state().intersects(State::UNKNOWN | State::IGNORE) {
                relist = true;
            } else {
                let now = status_of(s);
                let before = present.iter().find(|(r, _)| *r == now.name).map(|(_, p)| *p);
                if before != Some(now.card_present) {
                    if now.card_present {
                        on_event(ReaderEvent::CardInserted {
                            reader: now.name.clone(),
                            atr: now.atr.clone().unwrap_or_default(),
                            model: now.model.clone(),
                        });
                    } else if before == Some(true) {
                        on_event(ReaderEvent::CardRemoved { reader: now.name.clone() });
                    }
                    present.retain(|(r, _)| *r != now.name);
                    present.push((now.name, now.card_present));
                }
            }
            s.sync_current_state();
        }
    }
    Ok(())
}

/// A PC/SC context. Failing to get one means that this program has no smart-card service
/// to talk to, whatever the code says: Windows stops its "Smart Card" service while no
/// reader is plugged in (`SCARD_E_NO_SERVICE`) or it may be disabled
/// (`SCARD_E_SERVICE_STOPPED`), Linux may have no pcscd (`SCARD_E_NO_SERVICE`), and a
/// system whose `winscard.dll` is a stub answers `SCARD_F_INTERNAL_ERROR` (Wine 8). It is
/// never the token's fault, so never `TOKEN_FAILURE`.
fn establish() -> Result<Context, TokenError> {
    Context::establish(Scope::User).map_err(|e| {
        tracing::debug!(error = %e, "no PC/SC context");
        TokenError::ReaderServiceUnavailable
    })
}

/// The one place PC/SC errors become [`TokenError`]s.
pub fn map(e: pcsc::Error) -> TokenError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TokenError::ReaderServiceUnavailable,
        pcsc::Error::NoReadersAvailable => TokenError::NoToken,
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard => TokenError::TokenRemoved,
        other => TokenError::Failure { detail: format!("PC/SC: {other}") },
    }
}
