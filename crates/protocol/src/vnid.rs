//! Vietnamese identifiers in a certificate subject.
//!
//! Vietnamese CAs put the holder's IDs in the subject attribute userId
//! (OID 0.9.2342.19200300.100.1.1, shown as `UID`) as text with a prefix:
//! `MST:0101234567`, `MST:0101234567-001` (branch), `CCCD:001085012345`,
//! `CMND:012345678`. Several may stand in one subject. We read the DER, never a
//! display string, so an attacker cannot smuggle `MST:` into a CN or O.

use x509_parser::prelude::{FromDer, X509Name};

use crate::domain::Mst;

/// Dotted form of the userId attribute type.
pub const OID_USER_ID: &str = "0.9.2342.19200300.100.1.1";

/// One identifier found in a subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VnId {
    /// Tax code of a business or branch.
    Mst(Mst),
    /// Citizen identity card number (12 digits).
    Cccd(String),
    /// Old identity card number (9 or 12 digits).
    Cmnd(String),
}

/// The subject could not be read as an X.501 Name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the certificate subject is not a valid X.501 Name")]
pub struct SubjectParseError;

/// All Vietnamese IDs in a subject given as DER (`Name`), in order of appearance.
/// Unrecognised or malformed userId values are skipped, not guessed at.
pub fn ids_from_subject_der(subject_der: &[u8]) -> Result<Vec<VnId>, SubjectParseError> {
    let (rest, name) = X509Name::from_der(subject_der).map_err(|_| SubjectParseError)?;
    if !rest.is_empty() {
        return Err(SubjectParseError);
    }
    Ok(ids_from_name(&name))
}

/// All Vietnamese IDs in an already parsed subject.
pub fn ids_from_name(name: &X509Name<'_>) -> Vec<VnId> {
    let mut ids = Vec::new();
    for attr in name.iter_attributes() {
        if attr.attr_type().to_id_string() != OID_USER_ID {
            continue;
        }
        // UTF8String, PrintableString, IA5String and friends; a BMPString or a
        // non-string value is not what any Vietnamese CA writes, so it is skipped.
        if let Ok(value) = attr.as_str() {
            for part in value.split([',', ';']) {
                if let Some(id) = parse_user_id_value(part) {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
    }
    ids
}

/// The MSTs among `ids`.
pub fn msts(ids: &[VnId]) -> impl Iterator<Item = &Mst> {
    ids.iter().filter_map(|id| match id {
        VnId::Mst(m) => Some(m),
        _ => None,
    })
}

/// Parses one userId value such as `MST:0101234567`; the prefix is case-insensitive
/// and spaces around the parts are ignored.
pub fn parse_user_id_value(value: &str) -> Option<VnId> {
    let (prefix, number) = value.trim().split_once(':')?;
    let number = number.trim();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match prefix.trim().to_ascii_uppercase().as_str() {
        "MST" => Mst::parse(number).ok().map(VnId::Mst),
        "CCCD" if number.len() == 12 && all_digits(number) => Some(VnId::Cccd(number.to_string())),
        "CMND" if (number.len() == 9 || number.len() == 12) && all_digits(number) => {
            Some(VnId::Cmnd(number.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OID_UID_DER: &[u8] = &[0x06, 0x0A, 0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x01];
    const OID_CN_DER: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    const OID_O_DER: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x0A];

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    /// A Name with one attribute per RDN; `tag` 0x0C UTF8String, 0x13 PrintableString.
    fn name(attrs: &[(&[u8], u8, &str)]) -> Vec<u8> {
        let mut rdns = Vec::new();
        for (oid, tag, value) in attrs {
            let mut atv = oid.to_vec();
            atv.extend(tlv(*tag, value.as_bytes()));
            rdns.extend(tlv(0x31, &tlv(0x30, &atv)));
        }
        tlv(0x30, &rdns)
    }

    #[test]
    fn reads_mst_branch_cccd_and_cmnd() {
        let der = name(&[
            (OID_CN_DER, 0x0C, "CÔNG TY TNHH THỬ NGHIỆM"),
            (OID_UID_DER, 0x0C, "MST:0101234567"),
            (OID_UID_DER, 0x0C, "MST:0101234567-001"),
            (OID_UID_DER, 0x13, "CCCD:001085012345"),
            (OID_UID_DER, 0x0C, "cmnd: 012345678"),
        ]);
        let ids = ids_from_subject_der(&der).unwrap();
        assert_eq!(
            ids,
            vec![
                VnId::Mst(Mst::parse("0101234567").unwrap()),
                VnId::Mst(Mst::parse("0101234567-001").unwrap()),
                VnId::Cccd("001085012345".into()),
                VnId::Cmnd("012345678".into()),
            ]
        );
    }

    #[test]
    fn mst_outside_the_uid_attribute_is_ignored() {
        let der = name(&[(OID_CN_DER, 0x0C, "MST:0101234567"), (OID_O_DER, 0x0C, "MST:0309999999")]);
        assert!(ids_from_subject_der(&der).unwrap().is_empty());
    }

    #[test]
    fn malformed_values_are_skipped_and_bad_der_rejected() {
        let der = name(&[(OID_UID_DER, 0x0C, "MST:01012345"), (OID_UID_DER, 0x0C, "XYZ:1")]);
        assert!(ids_from_subject_der(&der).unwrap().is_empty());
        assert_eq!(ids_from_subject_der(&der[..der.len() - 1]), Err(SubjectParseError));
        assert_eq!(ids_from_subject_der(&[]), Err(SubjectParseError));
    }

    proptest! {
        #[test]
        fn every_mst_written_is_read_back_in_order(
            msts_in in proptest::collection::vec("[0-9]{10}(-[0-9]{3})?", 1..5),
            cn in "\\PC{0,30}",
        ) {
            let mut attrs: Vec<(&[u8], u8, String)> = vec![(OID_CN_DER, 0x0C, cn)];
            for m in &msts_in {
                attrs.push((OID_UID_DER, 0x0C, format!("MST:{m}")));
            }
            let refs: Vec<(&[u8], u8, &str)> = attrs.iter().map(|(o, t, v)| (*o, *t, v.as_str())).collect();
            let ids = ids_from_subject_der(&name(&refs)).unwrap();
            let mut want: Vec<String> = Vec::new();
            for m in &msts_in {
                if !want.contains(m) { want.push(m.clone()); }
            }
            let got: Vec<String> = msts(&ids).map(|m| m.as_str().to_string()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = ids_from_subject_der(&bytes);
        }

        #[test]
        fn arbitrary_values_never_panic_and_only_valid_msts_come_out(v in "\\PC{0,40}") {
            if let Some(VnId::Mst(m)) = parse_user_id_value(&v) {
                prop_assert!(Mst::parse(m.as_str()).is_ok());
            }
        }
    }
}
