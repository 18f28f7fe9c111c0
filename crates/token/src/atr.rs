//! ATR → likely token model and the PKCS#11 modules to try for it. The ATR is what a
//! reader reports before any driver is involved, so it lets diagnostics say "this is an
//! ePass2003; its module libcastle.so is not installed" instead of "no token".

use serde::Serialize;

/// A token model recognised by the start of its ATR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KnownModel {
    pub name: &'static str,
    /// Upper-case hex bytes separated by colons; the ATR must start with it.
    pub atr_prefix: &'static str,
    /// Module file names of the vendor, all platforms.
    pub modules: &'static [&'static str],
}

/// The models we recognise. Sources: DESIGN.md ("Tokens in the field") and the vendors'
/// published ATRs; the virtual card is the one the tests insert.
pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        name: "Feitian ePass2003 (VNPT-CA, Viettel-CA, FPT-CA, …)",
        atr_prefix: "3B:9F:95:81:31:FE:9F:00:66:46:53:05",
        modules: &["eps2003csp11.dll", "vnpt-ca_csp11.dll", "libcastle.so.1.0.0", "libcastle.1.0.0.dylib"],
    },
    KnownModel {
        name: "SafeNet eToken 5110",
        atr_prefix: "3B:D5:18:00:81:31:3A:7D:80:73:C8:21:10:30",
        modules: &["eTPKCS11.dll", "libeTPkcs11.so", "libeTPkcs11.dylib"],
    },
    KnownModel {
        name: "Virtual smart card (vsmartcard vicc, tests only)",
        atr_prefix: "3B:95:13:81:01:80:73:FF:01:00:0B",
        modules: &[],
    },
];

/// `3B:9F:…` form of an ATR.
pub fn format_atr(atr: &[u8]) -> String {
    atr.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The model whose ATR prefix matches, if any.
pub fn identify(atr: &[u8]) -> Option<&'static KnownModel> {
    let text = format_atr(atr);
    KNOWN_MODELS.iter().find(|m| text.starts_with(m.atr_prefix))
}

/// [`identify`] for an ATR already in `3B:9F:…` form.
pub fn identify_text(atr: &str) -> Option<&'static KnownModel> {
    let text = atr.to_ascii_uppercase();
    KNOWN_MODELS.iter().find(|m| text.starts_with(m.atr_prefix))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failure is the test's failure
mod tests {
    use super::*;

    #[test]
    fn epass2003_is_recognised_by_its_prefix() {
        let atr = [0x3B, 0x9F, 0x95, 0x81, 0x31, 0xFE, 0x9F, 0x00, 0x66, 0x46, 0x53, 0x05, 0x10, 0x00, 0x11, 0x71];
        let m = identify(&atr).unwrap();
        assert!(m.name.contains("ePass2003"));
        assert!(m.modules.contains(&"libcastle.so.1.0.0"));
        assert_eq!(identify(&[0x3B, 0x00]), None);
        assert_eq!(format_atr(&[0x3B, 0x9F]), "3B:9F");
    }
}
