//! The flows a user walks: recover a password, learn the usernames of the token's
//! MST, or change the registered email. Each goes token → challenge → sign → complete, and reports its progress.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::tbs::normalize_origin;
use bhxh_protocol::wire::{CompleteRequest, EmailChangeStarted, RecoveryComplete, UsernameLookupComplete};
use bhxh_protocol::{signed_data, Email, ErrorCode, Purpose, Username};
use bhxh_token::{AuthPin, CertSummary, PinState, SignRequest, Signed, Token, TokenError, TokenSummary};
use serde::Serialize;

use crate::{ApiClient, ClientError};

/// Which token and certificate to use; `None` means "the only sensible one".
#[derive(Clone, Debug, Default)]
pub struct Choice {
    pub slot_id: Option<u64>,
    /// CKA_ID, hex.
    pub cert_id: Option<String>,
}

/// Where a flow is, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    ReadingToken,
    RequestingChallenge,
    Signing,
    Verifying,
    Done,
}

/// Picks the token and certificate. With several tokens and no choice, the one token
/// holding a usable certificate wins; otherwise the user must choose.
pub fn choose(tokens: &[TokenSummary], choice: &Choice, now: i64) -> Result<(TokenSummary, CertSummary), ClientError> {
    let candidates: Vec<&TokenSummary> = match choice.slot_id {
        Some(slot) => tokens.iter().filter(|t| t.slot_id == slot).collect(),
        None => tokens.iter().collect(),
    };
    let token = match candidates.as_slice() {
        [] => return Err(TokenError::NoToken.into()),
        [one] => *one,
        many => {
            let usable: Vec<&&TokenSummary> =
                many.iter().filter(|t| t.certificates.iter().any(|c| c.usable_at(now))).collect();
            match usable.as_slice() {
                [one] => **one,
                _ => return Err(TokenError::SeveralTokens.into()),
            }
        }
    };
    let certs: Vec<&CertSummary> = match &choice.cert_id {
        Some(id) => token.certificates.iter().filter(|c| c.id.eq_ignore_ascii_case(id)).collect(),
        None => token.certificates.iter().collect(),
    };
    // A usable certificate first; failing that, the first one, so that the server's
    // answer (expired, untrusted, …) is recorded under a reference support can look up.
    let cert = certs.iter().find(|c| c.usable_at(now)).or(certs.first()).ok_or(TokenError::NoCertificate)?;
    Ok((token.clone(), (*cert).clone()))
}

/// Reads what is plugged in (off the async threads) and picks the token and certificate.
pub async fn select(token: &Arc<dyn Token>, choice: &Choice) -> Result<(TokenSummary, CertSummary), ClientError> {
    let reader = token.clone();
    let tokens = blocking(move || reader.tokens()).await?;
    choose(&tokens, choice, time::OffsetDateTime::now_utc().unix_timestamp())
}

/// Whether a PIN may be tried on a token in this state: never on a locked token; on the
/// final try only once the user confirmed it. A PIN the token wants changed (new tokens
/// ship with the CA's default) is tried: many modules still sign, and one that does not
/// answers `CKR_PIN_EXPIRED` (`PIN_MUST_CHANGE`, with the CA's instructions); the user
/// is warned first.
pub fn pin_gate(state: PinState, confirm_final_try: bool) -> Result<(), TokenError> {
    match state {
        PinState::Locked => Err(TokenError::PinLocked),
        PinState::FinalTry if !confirm_final_try => Err(TokenError::PinFinalTry),
        _ => Ok(()),
    }
}

/// What a flow needs besides the API client.
pub struct FlowInput {
    pub token: Arc<dyn Token>,
    pub choice: Choice,
    pub pin: AuthPin,
    pub confirm_final_try: bool,
    pub progress: Arc<dyn Fn(Progress) + Send + Sync>,
}

impl std::fmt::Debug for FlowInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowInput").field("choice", &self.choice).field("pin", &"[redacted]").finish()
    }
}

/// Recovers the password of `username`: the token proves the MST, the server emails
/// a temporary password (or, in its strict mode, returns it once).
pub async fn recover(api: &ApiClient, username: &str, input: FlowInput) -> Result<RecoveryComplete, ClientError> {
    let username = Username::parse(username).map_err(|c| ClientError::local(c, "username"))?;
    let progress = input.progress.clone();
    let req = prove(api, username.as_str(), Purpose::PasswordRecovery, None, input).await?;
    let out = api.complete_recovery(&req).await?;
    progress(Progress::Done);
    Ok(out)
}

/// The usernames registered for the token's MST.
pub async fn lookup_usernames(api: &ApiClient, input: FlowInput) -> Result<UsernameLookupComplete, ClientError> {
    let progress = input.progress.clone();
    let req = prove(api, "", Purpose::UsernameLookup, None, input).await?;
    let out = api.complete_lookup(&req).await?;
    progress(Progress::Done);
    Ok(out)
}

/// Asks to change the registered email of `username` to `new_email`: the token signs
/// for that address; the server mails a confirmation link to it. Nothing changes until
/// the link is opened and the waiting period has passed.
pub async fn change_email(
    api: &ApiClient,
    username: &str,
    new_email: &str,
    input: FlowInput,
) -> Result<EmailChangeStarted, ClientError> {
    let username = Username::parse(username).map_err(|c| ClientError::local(c, "username"))?;
    let email = Email::parse(new_email).map_err(|c| ClientError::local(c, "new email"))?;
    let progress = input.progress.clone();
    let req = prove(api, username.as_str(), Purpose::EmailChange, Some(email.as_str()), input).await?;
    let out = api.complete_email_change(&req).await?;
    progress(Progress::Done);
    Ok(out)
}

async fn prove(
    api: &ApiClient,
    username: &str,
    purpose: Purpose,
    new_email: Option<&str>,
    input: FlowInput,
) -> Result<CompleteRequest, ClientError> {
    let FlowInput { token, choice, pin, confirm_final_try, progress } = input;
    let progress = &*progress;
    progress(Progress::ReadingToken);
    // Read again here, after the PIN was typed: the state gated on is the token's now
    // (a caller may have shown the certificate from an earlier read, minutes ago).
    let (chosen, cert) = select(&token, &choice).await?;
    // Refuse before asking the server anything when the token cannot be used.
    pin_gate(chosen.pin_state, confirm_final_try)?;

    progress(Progress::RequestingChallenge);
    let ch = api.challenge(username, purpose, new_email).await?;
    if normalize_origin(&ch.origin).as_deref() != Some(api.origin()) {
        return Err(ClientError::local(
            ErrorCode::OriginMismatch,
            format!("challenge for {:?}, connected to {}", ch.origin, api.origin()),
        ));
    }
    if ch.nonce.len() != 44 || STANDARD.decode(&ch.nonce).map(|n| n.len()) != Ok(32) {
        return Err(ClientError::local(ErrorCode::UnexpectedResponse, "the nonce is not 32 bytes of base64"));
    }
    // The client builds what it signs, for the origin it actually reached.
    let data = signed_data(purpose, api.origin(), username, &ch.nonce, new_email);

    progress(Progress::Signing);
    let cert_id = cert.id_bytes();
    let slot_id = chosen.slot_id;
    let signer = token.clone();
    let signed: Signed = blocking(move || {
        signer.sign(&SignRequest { slot_id, cert_id: &cert_id, pin: &pin, data: &data, confirm_final_try })
    })
    .await?;

    progress(Progress::Verifying);
    Ok(CompleteRequest {
        challenge_id: ch.challenge_id,
        username: username.to_string(),
        purpose,
        certificate: STANDARD.encode(&signed.certificate),
        chain: chosen.ca_certificates.iter().map(|c| STANDARD.encode(c)).collect(),
        algorithm: signed.algorithm,
        signature: STANDARD.encode(&signed.signature),
    })
}

/// Runs a blocking token call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TokenError> + Send + 'static,
) -> Result<T, ClientError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ClientError::from),
        Err(e) => Err(ClientError::Token(TokenError::Failure { detail: format!("token thread: {e}") })),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_gate_never_tries_a_locked_token_nor_an_unconfirmed_final_try() {
        assert_eq!(pin_gate(PinState::Locked, true), Err(TokenError::PinLocked));
        assert_eq!(pin_gate(PinState::FinalTry, false), Err(TokenError::PinFinalTry));
        assert_eq!(pin_gate(PinState::FinalTry, true), Ok(()));
        // A PIN the token wants changed is tried (the module decides; the user was warned).
        assert_eq!(pin_gate(PinState::MustChange, false), Ok(()));
        assert_eq!(pin_gate(PinState::CountLow, false), Ok(()));
    }
}
