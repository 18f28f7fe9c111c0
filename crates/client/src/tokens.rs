//! The one owner of the loaded PKCS#11 modules, for the app and the CLI alike.
//!
//! Finding and loading a module (file checks, `dlopen`, `C_Initialize`, which a vendor
//! middleware may take seconds over) are blocking calls: they run on the blocking pool,
//! never on an async thread, like every other token call (`flows` runs those). The
//! modules are kept and loaded again only when the list wanted changed (a driver
//! installed meanwhile, another module chosen in the settings).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bhxh_token::p11::Modules;
use bhxh_token::{Token, TokenError};

use crate::ClientError;

/// The wanted list of modules and what was loaded for it.
type Loaded = (Vec<PathBuf>, Arc<Modules>);

/// See the module's documentation. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct TokenService {
    cache: Mutex<Option<Loaded>>,
}

impl TokenService {
    pub fn new() -> Arc<TokenService> {
        Arc::new(TokenService::default())
    }

    /// The chosen module alone (`module`, else `BHXH_PKCS11_MODULE`), or every module
    /// installed (two CAs' middlewares side by side), loaded on the blocking pool.
    pub async fn open(self: &Arc<Self>, module: Option<PathBuf>) -> Result<Arc<dyn Token>, ClientError> {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || this.open_blocking(module)).await {
            Ok(r) => r,
            Err(e) => Err(ClientError::Token(TokenError::Failure { detail: format!("token thread: {e}") })),
        }
    }

    /// [`TokenService::open`] on the calling thread, which must be allowed to block.
    fn open_blocking(&self, module: Option<PathBuf>) -> Result<Arc<dyn Token>, ClientError> {
        let wanted = Modules::wanted(module.as_deref())?;
        // One loader at a time: two windows asking at once load the modules once.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((list, modules)) = cache.as_ref() {
            if *list == wanted {
                return Ok(modules.clone());
            }
        }
        let loaded = Arc::new(Modules::open_list(&wanted)?);
        *cache = Some((wanted, loaded.clone()));
        Ok(loaded)
    }
}
