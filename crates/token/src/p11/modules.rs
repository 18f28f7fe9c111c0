//! Every installed module at once, as one [`Token`]: users often have two CAs'
//! middlewares side by side (they renewed with another CA), and the token may answer to
//! either.

use super::*;

/// A module that was found but could not be used, and why (a missing slot library,
/// a failed C_Initialize, a 32-bit DLL): reported, never hiding the others.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// A module loaded: its path, the library's description and who ships it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadedModule {
    pub path: PathBuf,
    pub info: String,
    pub vendor: Option<&'static str>,
}

/// Slot ids carry their module's position above this many bits, so every token of every
/// module has one id (the first module's keep theirs; ids stay below 2^53, which the
/// app's JavaScript keeps exact). Ids belong to one `Modules`: a caller that lists with
/// one and signs with another must load the same list (see [`Modules::wanted`]).
const MODULE_SHIFT: u32 = 40;

/// Every module found, each loaded once, as one [`Token`]: users often have two CAs'
/// middlewares (they renewed with another CA), and the token may answer to either.
#[derive(Clone, Debug)]
pub struct Modules {
    modules: Vec<Pkcs11Token>,
    loaded: Vec<LoadedModule>,
    skipped: Vec<Skipped>,
}

impl Modules {
    /// The modules [`Modules::open`] would load: the chosen one alone (`explicit`, then
    /// `BHXH_PKCS11_MODULE`: a choice is never silently replaced), or else every
    /// candidate of [`crate::module::candidates`]. Cheap (a few file checks): a caller
    /// that keeps a `Modules` compares this list to know when to load again.
    pub fn wanted(explicit: Option<&Path>) -> Result<Vec<PathBuf>, TokenError> {
        let env = std::env::var_os("BHXH_PKCS11_MODULE").filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(chosen) = explicit.map(Path::to_path_buf).or(env) {
            return Ok(vec![crate::module::find_module(Some(&chosen), None)?]);
        }
        let found: Vec<PathBuf> = crate::module::candidates(None).into_iter().map(|c| c.path).collect();
        if found.is_empty() {
            // What was looked for, for the message and support.
            return Err(crate::module::find_module(None, None)
                .err()
                .unwrap_or(TokenError::ModuleNotFound { searched: Vec::new() }));
        }
        Ok(found)
    }

    /// Loads [`Modules::wanted`]; an error only when none of them could be used.
    pub fn open(explicit: Option<&Path>) -> Result<Modules, TokenError> {
        Modules::open_list(&Modules::wanted(explicit)?)
    }

    /// Loads `list`; an error only when none of them could be used.
    pub fn open_list(list: &[PathBuf]) -> Result<Modules, TokenError> {
        let m = Modules::load(list);
        match m.unusable() {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// When every module of the list failed: the first one's failure.
    pub fn unusable(&self) -> Option<TokenError> {
        match self.skipped.first() {
            Some(s) if self.modules.is_empty() => {
                Some(TokenError::ModuleLoadFailed { module: s.path.clone(), detail: s.reason.clone() })
            }
            _ => None,
        }
    }

    /// Loads each module (once per process), skipping and recording those that fail.
    pub fn load(paths: &[PathBuf]) -> Modules {
        let mut m = Modules { modules: Vec::new(), loaded: Vec::new(), skipped: Vec::new() };
        for path in paths {
            match Pkcs11Token::open(path).and_then(|t| t.ctx.get_slots_with_token().map_err(map).map(|_| t)) {
                Ok(t) => {
                    let info = t.library_info().unwrap_or_default();
                    m.loaded.push(LoadedModule {
                        path: t.module.clone(),
                        info,
                        vendor: crate::module::vendor_of(path),
                    });
                    m.modules.push(t);
                }
                Err(e) => {
                    tracing::warn!(module = %path.display(), error = %e, "a PKCS#11 module could not be used; skipped");
                    m.skipped.push(Skipped { path: path.clone(), reason: e.to_string() });
                }
            }
        }
        m
    }

    /// The modules in use.
    pub fn loaded(&self) -> &[LoadedModule] {
        &self.loaded
    }

    /// The modules found but not usable, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    fn route(&self, slot_id: u64) -> Result<(&Pkcs11Token, u64), TokenError> {
        let index = (slot_id >> MODULE_SHIFT) as usize;
        let real = slot_id & ((1 << MODULE_SHIFT) - 1);
        self.modules.get(index).map(|m| (m, real)).ok_or(TokenError::TokenRemoved)
    }
}

/// The same physical token seen through two modules (same serial and model): kept
/// once, through the module the reader's ATR names for its model (`atr_modules`), else
/// the first module that listed it.
pub fn dedupe(tokens: Vec<TokenSummary>, atr_modules: &[&str]) -> Vec<TokenSummary> {
    let mut out: Vec<TokenSummary> = Vec::new();
    let named = |t: &TokenSummary| {
        Path::new(&t.module)
            .file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| atr_modules.iter().any(|m| m.eq_ignore_ascii_case(f)))
    };
    for t in tokens {
        let same = out
            .iter()
            .position(|o| !o.serial.is_empty() && o.serial == t.serial && o.model == t.model && o.module != t.module);
        match same {
            Some(i) if named(&t) && !named(&out[i]) => out[i] = t,
            Some(_) => {}
            None => out.push(t),
        }
    }
    out
}

impl Token for Modules {
    fn tokens(&self) -> Result<Vec<TokenSummary>, TokenError> {
        let mut all = Vec::new();
        let mut first_error = None;
        for (i, m) in self.modules.iter().enumerate() {
            match m.tokens() {
                Ok(list) => {
                    for mut t in list {
                        if t.slot_id >> MODULE_SHIFT != 0 {
                            tracing::warn!(module = %m.module.display(), slot = t.slot_id, "a slot id too large to route; skipped");
                            continue;
                        }
                        t.slot_id |= (i as u64) << MODULE_SHIFT;
                        all.push(t);
                    }
                }
                Err(e) => {
                    tracing::warn!(module = %m.module.display(), error = %e, "a module's tokens could not be read; skipped");
                    first_error.get_or_insert(e);
                }
            }
        }
        if all.is_empty() {
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        if self.modules.len() < 2 {
            return Ok(all);
        }
        // The ATRs of the cards present name the module their model wants.
        let atr_modules: Vec<&str> = crate::readers::readers()
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.atr.as_deref())
            .filter_map(|a| crate::atr::identify_text(a))
            .flat_map(|m| m.modules.iter().copied())
            .collect();
        Ok(dedupe(all, &atr_modules))
    }

    fn sign(&self, req: &SignRequest<'_>) -> Result<Signed, TokenError> {
        let (module, slot_id) = self.route(req.slot_id)?;
        module.sign(&SignRequest {
            slot_id,
            cert_id: req.cert_id,
            pin: req.pin,
            data: req.data,
            confirm_final_try: req.confirm_final_try,
        })
    }

    fn describe(&self) -> String {
        self.modules.iter().map(|m| m.module.display().to_string()).collect::<Vec<_>>().join(", ")
    }
}
