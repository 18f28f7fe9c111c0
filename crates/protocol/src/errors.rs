//! The error catalogue: every stable code the product shows, with its HTTP status, a
//! Vietnamese and an English message for the user, and a hint for support staff.
//!
//! Codes never change meaning once shipped; support staff and scripts key on them.
//! A test checks that no code lacks a message or a hint in either language.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Language of messages shown to a person. Vietnamese first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header or a locale such as
    /// `en_US.UTF-8`: English when the first listed language is English, else Vietnamese.
    pub fn from_header(value: &str) -> Lang {
        let first = value.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Vi
        }
    }

    /// `vi` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $status:literal,
        vi: $vi:literal, en: $en:literal,
        hint_vi: $hvi:literal, hint_en: $hen:literal; )*) => {
        /// A stable error code. `Display` and serde use the wire form (`PIN_LOCKED`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for the completeness test and for documentation.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The wire form, e.g. `CHALLENGE_EXPIRED`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status the server answers with; 0 for codes only the client
            /// raises (token, reader, network), which never travel on the wire.
            pub fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// What the user reads.
            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::Vi) => $vi,
                       (ErrorCode::$variant, Lang::En) => $en, )*
                }
            }

            /// What support staff (or a patient user) should do about it.
            pub fn hint(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::Vi) => $hvi,
                       (ErrorCode::$variant, Lang::En) => $hen, )*
                }
            }

            /// The inverse of [`ErrorCode::as_str`].
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

catalogue! {
    // --- the request itself -------------------------------------------------------
    /// The body is not valid JSON of the expected shape.
    MalformedRequest = "MALFORMED_REQUEST", 400,
        vi: "Yêu cầu không hợp lệ.",
        en: "The request is not valid.",
        hint_vi: "Phần mềm gửi dữ liệu sai định dạng. Hãy cập nhật phần mềm lên bản mới nhất.",
        hint_en: "The software sent data in the wrong format. Update it to the latest version.";
    /// The body is larger than the server accepts.
    BodyTooLarge = "BODY_TOO_LARGE", 413,
        vi: "Dữ liệu gửi lên quá lớn.",
        en: "The request is too large.",
        hint_vi: "Yêu cầu vượt giới hạn kích thước của máy chủ; kiểm tra phiên bản phần mềm.",
        hint_en: "The request exceeds the server's size limit; check the software version.";
    /// The server gave up on a request that took too long.
    RequestTimeout = "REQUEST_TIMEOUT", 408,
        vi: "Máy chủ xử lý quá lâu, vui lòng thử lại.",
        en: "The server took too long; please try again.",
        hint_vi: "Thử lại sau ít phút. Nếu lặp lại, báo mã tham chiếu cho bộ phận kỹ thuật.",
        hint_en: "Try again in a few minutes. If it repeats, give the reference code to the technical team.";
    /// No such endpoint.
    NotFound = "NOT_FOUND", 404,
        vi: "Không tìm thấy chức năng được yêu cầu.",
        en: "The requested function does not exist.",
        hint_vi: "Địa chỉ máy chủ hoặc phiên bản phần mềm không đúng.",
        hint_en: "The server address or the software version is wrong.";
    /// The username is empty, too long or has characters a username cannot have.
    InvalidUsername = "INVALID_USERNAME", 400,
        vi: "Tên đăng nhập không hợp lệ.",
        en: "The username is not valid.",
        hint_vi: "Tên đăng nhập gồm chữ, số và các ký tự . _ - @, tối đa 64 ký tự.",
        hint_en: "A username has letters, digits and . _ - @, at most 64 characters.";
    /// Not a 10-digit (or 10+3 branch) tax code.
    InvalidMst = "INVALID_MST", 400,
        vi: "Mã số thuế không hợp lệ.",
        en: "The tax code (MST) is not valid.",
        hint_vi: "Mã số thuế gồm 10 chữ số, hoặc 10 chữ số, dấu - và 3 chữ số với đơn vị phụ thuộc.",
        hint_en: "An MST has 10 digits, or 10 digits, a dash and 3 digits for a branch.";
    /// Not an email address.
    InvalidEmail = "INVALID_EMAIL", 400,
        vi: "Địa chỉ email không hợp lệ.",
        en: "The email address is not valid.",
        hint_vi: "Kiểm tra lại địa chỉ email, ví dụ ketoan@congty.vn.",
        hint_en: "Check the email address, e.g. ketoan@company.vn.";
    /// Too many attempts from this address or for this account; try again later.
    RateLimited = "RATE_LIMITED", 429,
        vi: "Bạn đã thử quá nhiều lần. Vui lòng đợi rồi thử lại.",
        en: "Too many attempts. Please wait and try again.",
        hint_vi: "Đây là giới hạn tạm thời, tài khoản không bị khóa. Đợi hết thời gian chờ rồi thử lại.",
        hint_en: "This is a temporary limit; the account is not locked. Wait for the delay and try again.";

    // --- the signed challenge ------------------------------------------------------
    /// No challenge with this id.
    ChallengeNotFound = "CHALLENGE_NOT_FOUND", 400,
        vi: "Mã xác thực không tồn tại. Vui lòng bắt đầu lại.",
        en: "The verification session does not exist. Please start again.",
        hint_vi: "Bắt đầu lại từ bước nhập tên đăng nhập.",
        hint_en: "Start again from the username step.";
    /// The challenge was already used (each is good for one attempt).
    ChallengeUsed = "CHALLENGE_USED", 400,
        vi: "Mã xác thực đã được dùng. Vui lòng bắt đầu lại.",
        en: "The verification session was already used. Please start again.",
        hint_vi: "Mỗi mã xác thực chỉ dùng một lần; bắt đầu lại để nhận mã mới.",
        hint_en: "Each session is good for one attempt; start again to get a new one.";
    /// The challenge's 5 minutes are over.
    ChallengeExpired = "CHALLENGE_EXPIRED", 400,
        vi: "Mã xác thực đã hết hạn (5 phút). Vui lòng bắt đầu lại.",
        en: "The verification session expired (5 minutes). Please start again.",
        hint_vi: "Bắt đầu lại và nhập mã PIN trong vòng 5 phút. Kiểm tra đồng hồ máy tính nếu lỗi lặp lại.",
        hint_en: "Start again and enter the PIN within 5 minutes. Check the computer's clock if it repeats.";
    /// The challenge was issued for another username or purpose.
    ChallengeMismatch = "CHALLENGE_MISMATCH", 400,
        vi: "Mã xác thực không khớp với tên đăng nhập hoặc yêu cầu.",
        en: "The verification session does not match the username or request.",
        hint_vi: "Bắt đầu lại từ đầu với đúng tên đăng nhập.",
        hint_en: "Start again with the right username.";

    // --- the certificate -----------------------------------------------------------
    /// The certificate is not a well-formed X.509 certificate.
    CertMalformed = "CERT_MALFORMED", 400,
        vi: "Không đọc được chứng thư số trên token.",
        en: "The certificate on the token could not be read.",
        hint_vi: "Rút token ra, cắm lại và thử lại. Nếu vẫn lỗi, liên hệ nhà cung cấp chữ ký số.",
        hint_en: "Unplug the token, plug it in again and retry. If it persists, contact the CA.";
    /// The certificate's validity ended.
    CertExpired = "CERT_EXPIRED", 403,
        vi: "Chứng thư số đã hết hạn.",
        en: "The certificate has expired.",
        hint_vi: "Gia hạn chữ ký số với nhà cung cấp (VNPT-CA, Viettel-CA, …) rồi thử lại.",
        hint_en: "Renew the digital signature with the CA (VNPT-CA, Viettel-CA, …) and retry.";
    /// The certificate's validity has not started.
    CertNotYetValid = "CERT_NOT_YET_VALID", 403,
        vi: "Chứng thư số chưa có hiệu lực.",
        en: "The certificate is not valid yet.",
        hint_vi: "Kiểm tra ngày giờ của máy tính; nếu đúng, chờ đến ngày chứng thư có hiệu lực.",
        hint_en: "Check the computer's date and time; if right, wait until the certificate starts.";
    /// The certificate may not be used for digital signatures.
    CertKeyUsage = "CERT_KEY_USAGE", 403,
        vi: "Chứng thư số không được phép dùng để ký số.",
        en: "The certificate may not be used for digital signatures.",
        hint_vi: "Chọn chứng thư ký số của doanh nghiệp trên token (không phải chứng thư mã hóa).",
        hint_en: "Choose the business's signing certificate on the token (not an encryption one).";
    /// The key is neither RSA ≥ 2048 bits nor EC P-256.
    CertKeyUnsupported = "CERT_KEY_UNSUPPORTED", 403,
        vi: "Loại khóa của chứng thư số không được hỗ trợ (cần RSA từ 2048 bit hoặc ECDSA P-256).",
        en: "The certificate's key type is not supported (RSA of 2048 bits or more, or ECDSA P-256).",
        hint_vi: "Token cũ dùng khóa yếu; liên hệ nhà cung cấp chữ ký số để cấp lại.",
        hint_en: "Old tokens use weak keys; ask the CA for a new certificate.";
    /// The declared algorithm does not fit the certificate's key.
    AlgorithmMismatch = "ALGORITHM_MISMATCH", 400,
        vi: "Thuật toán chữ ký không khớp với khóa của chứng thư số.",
        en: "The signature algorithm does not match the certificate's key.",
        hint_vi: "Lỗi phần mềm phía máy người dùng; cập nhật phần mềm rồi thử lại.",
        hint_en: "A client software fault; update the software and retry.";
    /// The certificate does not chain to a configured trust anchor.
    CertUntrusted = "CERT_UNTRUSTED", 403,
        vi: "Chứng thư số không do nhà cung cấp dịch vụ chứng thực được chấp nhận cấp.",
        en: "The certificate was not issued by an accepted certification authority.",
        hint_vi: "Chỉ chấp nhận chữ ký số của các CA được cấp phép tại Việt Nam. Kiểm tra đúng token của doanh nghiệp.",
        hint_en: "Only licensed Vietnamese CAs are accepted. Check that it is the business's token.";
    /// The certificate is signed with SHA-1 (or another algorithm no longer accepted).
    CertWeakSignature = "CERT_WEAK_SIGNATURE", 403,
        vi: "Chứng thư số được ký bằng thuật toán cũ (SHA-1) không còn được chấp nhận.",
        en: "The certificate is signed with an old algorithm (SHA-1) that is no longer accepted.",
        hint_vi: "Các CA Việt Nam đã chuyển sang SHA-256 từ nhiều năm; liên hệ nhà cung cấp chữ ký số để cấp lại chứng thư.",
        hint_en: "Vietnamese CAs moved to SHA-256 years ago; ask the CA to re-issue the certificate.";
    /// The certificate carries a critical extension the server does not know.
    CertExtensionUnsupported = "CERT_EXTENSION_UNSUPPORTED", 403,
        vi: "Chứng thư số có phần mở rộng bắt buộc mà hệ thống không hỗ trợ.",
        en: "The certificate has a critical extension the system does not support.",
        hint_vi: "Ghi lại mã tham chiếu và liên hệ bộ phận kỹ thuật cùng nhà cung cấp chữ ký số.",
        hint_en: "Note the reference and contact the technical team and the CA.";
    /// The certificate's extendedKeyUsage does not allow client authentication.
    CertPurpose = "CERT_PURPOSE", 403,
        vi: "Chứng thư số không được cấp cho mục đích xác thực người dùng.",
        en: "The certificate was not issued for authenticating a user.",
        hint_vi: "Chọn chứng thư ký số của doanh nghiệp trên token; nếu chỉ có chứng thư này, liên hệ nhà cung cấp chữ ký số.",
        hint_en: "Choose the business's signing certificate on the token; if it is the only one, contact the CA.";
    /// The certificate carries none of the policies the deployment requires of its CA's
    /// certificates (another kind of certificate of the same CA, e.g. a person's).
    CertPolicy = "CERT_POLICY", 403,
        vi: "Chứng thư số này không thuộc loại được chấp nhận để lấy lại mật khẩu BHXH.",
        en: "This kind of certificate is not accepted for recovering a BHXH password.",
        hint_vi: "Dùng chứng thư số của doanh nghiệp (loại cấp cho tổ chức) đã đăng ký với BHXH; nếu token chỉ có chứng thư này, gọi tổng đài hỗ trợ.",
        hint_en: "Use the business's certificate (the kind issued to an organisation) registered with BHXH; if the token has only this one, call the hotline.";
    /// A CA certificate on the path is not valid: expired, not a CA, or past its pathLen.
    CertIssuerInvalid = "CERT_ISSUER_INVALID", 403,
        vi: "Chứng thư của nhà cung cấp dịch vụ chứng thực (CA trung gian) không hợp lệ hoặc đã hết hạn.",
        en: "The certification authority's own (intermediate) certificate is invalid or has expired.",
        hint_vi: "Cập nhật phần mềm của nhà cung cấp chữ ký số (để token có chứng thư CA mới) rồi thử lại; nếu vẫn lỗi, gọi tổng đài.",
        hint_en: "Update the CA's token software (so the token holds the new CA certificate) and retry; if it persists, call the hotline.";
    /// The request's `chain` is not up to 4 CA certificates in DER.
    CertChainInvalid = "CERT_CHAIN_INVALID", 400,
        vi: "Danh sách chứng thư CA gửi kèm không hợp lệ.",
        en: "The CA certificates sent along are not valid.",
        hint_vi: "Lỗi phần mềm phía máy người dùng; cập nhật phần mềm rồi thử lại.",
        hint_en: "A client software fault; update the software and retry.";
    /// The certificate is on its CA's revocation list.
    CertRevoked = "CERT_REVOKED", 403,
        vi: "Chứng thư số đã bị thu hồi.",
        en: "The certificate has been revoked.",
        hint_vi: "Liên hệ nhà cung cấp chữ ký số để được cấp chứng thư mới.",
        hint_en: "Contact the CA for a new certificate.";
    /// The server could not tell whether the certificate is revoked (fail-closed).
    CertRevocationUnknown = "CERT_REVOCATION_UNKNOWN", 503,
        vi: "Chưa kiểm tra được tình trạng thu hồi của chứng thư số. Vui lòng thử lại sau.",
        en: "The certificate's revocation status could not be checked. Please try again later.",
        hint_vi: "Danh sách thu hồi (CRL) trên máy chủ đã cũ hoặc thiếu; bộ phận kỹ thuật cần cập nhật.",
        hint_en: "The server's revocation list (CRL) is stale or missing; the technical team must update it.";
    /// The certificate does not belong to this account (MST or pinned fingerprint).
    CertNotBound = "CERT_NOT_BOUND", 403,
        vi: "Tên đăng nhập có thể gõ sai: tài khoản này không thuộc doanh nghiệp của chữ ký số trên token.",
        en: "The username may be mistyped: this account does not belong to the business of the token's certificate.",
        hint_vi: "Kiểm tra lại tên đăng nhập, hoặc tìm tên đăng nhập bằng chính token này. Mã số thuế trên chữ ký số phải trùng với mã số thuế đăng ký tài khoản.",
        hint_en: "Check the username, or find it with this very token. The certificate's MST must equal the account's registered MST.";
    /// The signature does not verify over the bytes the server rebuilt.
    SignatureInvalid = "SIGNATURE_INVALID", 403,
        vi: "Chữ ký số không hợp lệ.",
        en: "The digital signature is not valid.",
        hint_vi: "Kiểm tra địa chỉ máy chủ trong phần Cài đặt, rồi bắt đầu lại.",
        hint_en: "Check the server address in Settings, then start again.";

    // --- passwords and sessions ----------------------------------------------------
    /// Wrong username or password (never says which).
    InvalidCredentials = "INVALID_CREDENTIALS", 401,
        vi: "Tên đăng nhập hoặc mật khẩu không đúng.",
        en: "Wrong username or password.",
        hint_vi: "Nếu quên mật khẩu, chọn “Quên mật khẩu?” và dùng chữ ký số để lấy lại.",
        hint_en: "If you forgot the password, choose “Forgot password?” and use the token to recover it.";
    /// The temporary password's 24 hours are over.
    TempPasswordExpired = "TEMP_PASSWORD_EXPIRED", 401,
        vi: "Mật khẩu tạm thời đã hết hạn (24 giờ).",
        en: "The temporary password has expired (24 hours).",
        hint_vi: "Lấy lại mật khẩu một lần nữa bằng chữ ký số.",
        hint_en: "Recover the password again with the token.";
    /// The session must change its temporary password before anything else.
    PasswordChangeRequired = "PASSWORD_CHANGE_REQUIRED", 403,
        vi: "Bạn cần đổi mật khẩu tạm thời trước khi tiếp tục.",
        en: "You must change the temporary password before continuing.",
        hint_vi: "Đặt mật khẩu mới theo quy định rồi đăng nhập lại.",
        hint_en: "Set a new password that meets the policy, then log in again.";
    /// The new password does not meet the policy.
    PasswordPolicy = "PASSWORD_POLICY", 400,
        vi: "Mật khẩu mới chưa đạt yêu cầu: ít nhất 10 ký tự, có chữ hoa, chữ thường, chữ số và ký tự đặc biệt, không chứa tên đăng nhập.",
        en: "The new password does not meet the policy: at least 10 characters with upper and lower case, a digit and a symbol, not containing the username.",
        hint_vi: "Chọn mật khẩu khác đáp ứng đủ các điều kiện.",
        hint_en: "Choose another password that meets every rule.";
    /// The new password equals the temporary or the current one.
    PasswordReuse = "PASSWORD_REUSE", 400,
        vi: "Mật khẩu mới phải khác mật khẩu tạm thời và mật khẩu hiện tại.",
        en: "The new password must differ from the temporary and the current password.",
        hint_vi: "Mật khẩu tạm thời gửi qua email không được dùng lâu dài.",
        hint_en: "The emailed temporary password may never become the long-term password.";
    /// No valid session (missing, expired, logged out or ended by a reset).
    SessionInvalid = "SESSION_INVALID", 401,
        vi: "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
        en: "The session has ended. Please log in again.",
        hint_vi: "Phiên kết thúc khi đăng xuất, đổi mật khẩu hoặc lấy lại mật khẩu.",
        hint_en: "Sessions end on logout, password change or recovery.";

    // --- portal recovery (MST + email + captcha) -----------------------------------
    /// The captcha answer is wrong; the captcha is used up.
    CaptchaIncorrect = "CAPTCHA_INCORRECT", 400,
        vi: "Mã xác nhận (captcha) không đúng. Vui lòng nhập mã mới.",
        en: "The captcha code is wrong. Please enter the new code.",
        hint_vi: "Mỗi mã chỉ dùng được một lần; bấm \"Đổi mã khác\" nếu khó đọc. Chữ hoa hay thường đều được.",
        hint_en: "Each code works once; press \"New code\" if it is hard to read. Upper or lower case both work.";
    /// The captcha was already used for a request.
    CaptchaUsed = "CAPTCHA_USED", 400,
        vi: "Mã xác nhận này đã được dùng. Vui lòng nhập mã mới.",
        en: "This captcha code was already used. Please enter the new code.",
        hint_vi: "Mỗi yêu cầu cần một mã xác nhận mới.",
        hint_en: "Every request needs a fresh captcha code.";
    /// The captcha is older than its lifetime (2 minutes) or unknown.
    CaptchaExpired = "CAPTCHA_EXPIRED", 400,
        vi: "Mã xác nhận đã hết hạn. Vui lòng nhập mã mới.",
        en: "The captcha code has expired. Please enter the new code.",
        hint_vi: "Mã xác nhận chỉ có hiệu lực 2 phút.",
        hint_en: "A captcha code is valid for 2 minutes.";
    /// The email is not the one registered for this MST (also for an unknown MST).
    PortalEmailMismatch = "PORTAL_EMAIL_MISMATCH", 400,
        vi: "Mã số thuế hoặc email không trùng khớp với thông tin đã đăng ký tài khoản giao dịch điện tử BHXH.",
        en: "The tax code or the email does not match what was registered for the BHXH e-filing account.",
        hint_vi: "Kiểm tra lại MST và email đã đăng ký. Không còn dùng email đó: đổi email bằng token của doanh nghiệp, hoặc gọi tổng đài hỗ trợ và đọc mã tham chiếu. Không biết lúc đăng ký giao dịch điện tử với BHXH đã khai email nào: chỉ bộ phận hỗ trợ giao dịch điện tử của BHXH Việt Nam (1900 9068, 1900 5555 64) tra được hồ sơ đó, không cần mã tham chiếu.",
        hint_en: "Check the MST and the registered email. No longer using that address: change it with the business's token, or call the support hotline and read out the reference. Not sure which email was given when registering for e-filing with BHXH: only the e-filing support of Vietnam Social Security (1900 9068, 1900 5555 64) can look up that file, no reference needed.";
    /// The activation link is unknown (mistyped or cut by the mail program).
    ActivationInvalid = "ACTIVATION_INVALID", 404,
        vi: "Liên kết kích hoạt không hợp lệ.",
        en: "The activation link is not valid.",
        hint_vi: "Mở đúng liên kết ở cuối email mới nhất; nếu email cắt mất liên kết, sao chép toàn bộ liên kết vào trình duyệt.",
        hint_en: "Open the link at the end of the newest email; if the mail program cut it, copy the whole link into the browser.";
    /// The activation link was already used.
    ActivationUsed = "ACTIVATION_USED", 410,
        vi: "Liên kết kích hoạt này đã được dùng; mật khẩu mới đã có hiệu lực.",
        en: "This activation link was already used; the new password is in effect.",
        hint_vi: "Đăng nhập bằng mật khẩu trong email. Nếu không đăng nhập được, lấy lại mật khẩu lần nữa.",
        hint_en: "Log in with the password from the email. If that fails, recover the password again.";
    /// The activation link is older than 30 minutes.
    ActivationExpired = "ACTIVATION_EXPIRED", 410,
        vi: "Liên kết kích hoạt đã hết hạn (quá 30 phút).",
        en: "The activation link has expired (over 30 minutes).",
        hint_vi: "Gửi lại yêu cầu lấy lại mật khẩu; mật khẩu cũ vẫn dùng được.",
        hint_en: "Send a new password request; the old password still works.";
    /// A newer request replaced this link.
    ActivationSuperseded = "ACTIVATION_SUPERSEDED", 410,
        vi: "Liên kết này đã bị thay thế bởi một yêu cầu mới hơn.",
        en: "This link was replaced by a newer request.",
        hint_vi: "Dùng liên kết và mật khẩu trong email mới nhất.",
        hint_en: "Use the link and the password in the newest email.";

    // --- changing the registered email --------------------------------------------
    /// The new address is the one registered already.
    EmailUnchanged = "EMAIL_UNCHANGED", 400,
        vi: "Email mới trùng với email đang đăng ký.",
        en: "The new email is the one registered already.",
        hint_vi: "Nhập địa chỉ email mới mà doanh nghiệp đang dùng.",
        hint_en: "Enter the new address the business uses now.";
    /// The confirmation or cancel link is unknown (mistyped or cut by the mail program).
    EmailChangeLinkInvalid = "EMAIL_CHANGE_LINK_INVALID", 404,
        vi: "Liên kết đổi email không hợp lệ.",
        en: "The email change link is not valid.",
        hint_vi: "Mở đúng liên kết trong email mới nhất; nếu email cắt mất liên kết, sao chép toàn bộ liên kết vào trình duyệt.",
        hint_en: "Open the link in the newest email; if the mail program cut it, copy the whole link into the browser.";
    /// The confirmation link is older than 30 minutes.
    EmailChangeLinkExpired = "EMAIL_CHANGE_LINK_EXPIRED", 410,
        vi: "Liên kết xác nhận email mới đã hết hạn (quá 30 phút). Email đăng ký chưa thay đổi.",
        en: "The link confirming the new email has expired (over 30 minutes). The registered email has not changed.",
        hint_vi: "Gửi lại yêu cầu đổi email bằng token, rồi mở thư xác nhận trong vòng 30 phút.",
        hint_en: "Ask for the change again with the token, then open the confirmation mail within 30 minutes.";
    /// The link was used already (the address is confirmed, or the change cancelled).
    EmailChangeLinkUsed = "EMAIL_CHANGE_LINK_USED", 410,
        vi: "Liên kết này đã được dùng.",
        en: "This link was already used.",
        hint_vi: "Trạng thái yêu cầu đổi email được ghi trong thư mới nhất; cần hỗ trợ, gọi tổng đài và đọc mã tham chiếu.",
        hint_en: "The newest mail says where the change stands; for help, call the hotline and read out the reference.";
    /// A newer request, a cancellation or the account's suspension ended this change.
    EmailChangeEnded = "EMAIL_CHANGE_ENDED", 410,
        vi: "Yêu cầu đổi email này đã bị hủy hoặc được thay bằng một yêu cầu mới hơn.",
        en: "This email change was cancelled or replaced by a newer request.",
        hint_vi: "Email đăng ký giữ nguyên. Nếu vẫn cần đổi, gửi lại yêu cầu bằng token hoặc gọi tổng đài.",
        hint_en: "The registered email stays as it was. To change it still, ask again with the token or call the hotline.";
    /// The registered address cancelled a change lately: token requests wait (the desk
    /// still can change it, after checking documents).
    EmailChangePaused = "EMAIL_CHANGE_PAUSED", 409,
        vi: "Email đăng ký vừa hủy một yêu cầu đổi email, nên tạm thời không đổi được bằng token.",
        en: "The registered email cancelled an email change lately, so the token cannot change it for now.",
        hint_vi: "Nếu doanh nghiệp thật sự cần đổi email, gọi tổng đài hỗ trợ: nhân viên kiểm tra giấy tờ và đổi giúp. Nếu không phải doanh nghiệp yêu cầu, hãy báo ngay vì có thể có người khác giữ token.",
        hint_en: "If the business really needs a new email, call the support hotline: staff check the documents and change it. If your business did not ask, say so at once: someone else may hold the token.";
    /// The change has taken effect already: too late to cancel by link.
    EmailChangeApplied = "EMAIL_CHANGE_APPLIED", 409,
        vi: "Email đăng ký đã được đổi; không thể hủy bằng liên kết nữa.",
        en: "The registered email has been changed already; the link can no longer cancel it.",
        hint_vi: "Nếu không phải doanh nghiệp của bạn yêu cầu, gọi ngay tổng đài hỗ trợ và đọc mã tham chiếu.",
        hint_en: "If your business did not ask for this, call the support hotline at once and read out the reference.";
    /// A staff action only a supervisor may take (approving an email change).
    StaffRoleRequired = "STAFF_ROLE_REQUIRED", 403,
        vi: "Thao tác này cần nhân viên giám sát (supervisor) phê duyệt.",
        en: "This action needs a supervisor.",
        hint_vi: "Nhờ một nhân viên giám sát mở yêu cầu và phê duyệt; vai trò do quản trị đặt bằng bhxh-server staff add --role supervisor.",
        hint_en: "Ask a supervisor to open the request and approve it; an administrator sets roles with bhxh-server staff add --role supervisor.";
    /// Four eyes: whoever proposed an email change cannot approve it.
    StaffFourEyes = "STAFF_FOUR_EYES", 403,
        vi: "Người đề xuất không thể tự phê duyệt đề xuất của mình.",
        en: "Whoever proposed a change cannot approve it too.",
        hint_vi: "Một nhân viên giám sát khác phải kiểm tra giấy tờ và phê duyệt.",
        hint_en: "Another supervisor must check the documents and approve.";
    /// The documents checked at the desk are not all recorded.
    StaffDocumentsMissing = "STAFF_DOCUMENTS_MISSING", 400,
        vi: "Chưa ghi đủ giấy tờ đã kiểm tra: loại và 4 số cuối CCCD/CMND người đăng ký, số giấy phép kinh doanh, số điện thoại người gọi, và giấy ủy quyền với tên người được ủy quyền nếu người gọi không phải người đăng ký.",
        en: "The documents checked are not all recorded: the registrant's CCCD/CMND type and last 4 digits, the business licence number, the caller's phone, and the letter of authorisation with the authorised person's name when the caller is not the registrant.",
        hint_vi: "Chỉ ghi 4 số cuối của CCCD/CMND, không ghi cả số.",
        hint_en: "Record only the last 4 digits of the CCCD/CMND, never the whole number.";

    // --- support codes ---------------------------------------------------------------
    /// No report under this support code: mistyped, expired (1 hour) or never made; the
    /// same answer for each.
    SupportCodeUnknown = "SUPPORT_CODE_UNKNOWN", 404,
        vi: "Mã hỗ trợ không đúng hoặc đã hết hạn.",
        en: "The support code is wrong or has expired.",
        hint_vi: "Nhờ người gọi đọc lại mã (HT- và 9 chữ số). Mỗi mã có hiệu lực 1 giờ; nếu đã quá, người gọi bấm \"Gửi thông tin cho nhân viên hỗ trợ\" lần nữa.",
        hint_en: "Ask the caller to read the code again (HT- and 9 digits). A code lives 1 hour; past that, the caller presses \"Send the details to support\" again.";

    // --- support desk (staff console) ----------------------------------------------
    /// The staff console needs a staff login.
    StaffLoginRequired = "STAFF_LOGIN_REQUIRED", 401,
        vi: "Vui lòng đăng nhập bằng tài khoản nhân viên hỗ trợ.",
        en: "Please log in with a support staff account.",
        hint_vi: "Tài khoản nhân viên do quản trị tạo bằng lệnh bhxh-server staff add.",
        hint_en: "Staff accounts are created by an administrator with bhxh-server staff add.";
    /// Wrong staff username or password.
    StaffLoginFailed = "STAFF_LOGIN_FAILED", 401,
        vi: "Tên đăng nhập hoặc mật khẩu nhân viên không đúng.",
        en: "Wrong staff username or password.",
        hint_vi: "Kiểm tra bộ gõ tiếng Việt và Caps Lock; quản trị có thể đặt lại mật khẩu nhân viên.",
        hint_en: "Check the Vietnamese input method and Caps Lock; an administrator can reset staff passwords.";
    /// A staff action without the form's token (a forged or stale page).
    StaffCsrf = "STAFF_CSRF", 403,
        vi: "Trang đã cũ hoặc yêu cầu không hợp lệ. Vui lòng tải lại trang rồi thử lại.",
        en: "The page is stale or the request is not valid. Reload the page and try again.",
        hint_vi: "Thao tác của nhân viên chỉ được gửi từ trang của bảng điều khiển.",
        hint_en: "Staff actions are accepted only from the console's own pages.";
    /// The mail was delivered and its content wiped; it cannot be sent again.
    MailContentWiped = "MAIL_CONTENT_WIPED", 409,
        vi: "Thư đã được gửi và nội dung đã được xóa để bảo mật, nên không gửi lại được.",
        en: "The mail was delivered and its content wiped for security, so it cannot be sent again.",
        hint_vi: "Dùng \"Cấp lại mật khẩu\" để gửi một mật khẩu tạm thời mới.",
        hint_en: "Use \"Start a reset\" to send a new temporary password.";
    /// There is no mail to send again for this account.
    NoMailToResend = "NO_MAIL_TO_RESEND", 404,
        vi: "Không có thư nào để gửi lại cho tài khoản này.",
        en: "There is no mail to send again for this account.",
        hint_vi: "Dùng \"Cấp lại mật khẩu\" nếu người dùng đã xác minh danh tính.",
        hint_en: "Use \"Start a reset\" once the user has proved who they are.";

    // --- accounts (support staff) --------------------------------------------------
    /// No account with this username (support tools only; the public API never says so).
    AccountNotFound = "ACCOUNT_NOT_FOUND", 404,
        vi: "Không tìm thấy tài khoản.",
        en: "No such account.",
        hint_vi: "Kiểm tra lại tên đăng nhập hoặc mã số thuế.",
        hint_en: "Check the username or the MST.";
    /// An account with this username exists already.
    AccountExists = "ACCOUNT_EXISTS", 409,
        vi: "Tên đăng nhập đã tồn tại.",
        en: "The username already exists.",
        hint_vi: "Chọn tên đăng nhập khác hoặc xem tài khoản hiện có.",
        hint_en: "Choose another username or look at the existing account.";
    /// The account is disabled (support tools only; the public API answers a disabled
    /// account exactly like an unknown one).
    AccountDisabled = "ACCOUNT_DISABLED", 409,
        vi: "Tài khoản đang bị vô hiệu hóa.",
        en: "The account is disabled.",
        hint_vi: "Bật lại tài khoản (bhxh-server account enable) trước khi cấp lại mật khẩu.",
        hint_en: "Enable the account again (bhxh-server account enable) before starting a reset.";

    // --- the server ----------------------------------------------------------------
    /// An unexpected fault; details are in the server log under the reference.
    Internal = "INTERNAL", 500,
        vi: "Đã có lỗi hệ thống. Vui lòng thử lại sau.",
        en: "A system error occurred. Please try again later.",
        hint_vi: "Báo mã tham chiếu cho bộ phận kỹ thuật; chi tiết nằm trong nhật ký máy chủ.",
        hint_en: "Give the reference code to the technical team; details are in the server log.";
    /// The server cannot serve now (database or mail unavailable).
    ServiceUnavailable = "SERVICE_UNAVAILABLE", 503,
        vi: "Hệ thống đang bận hoặc bảo trì. Vui lòng thử lại sau.",
        en: "The system is busy or under maintenance. Please try again later.",
        hint_vi: "Thử lại sau ít phút; nếu kéo dài, gọi tổng đài hỗ trợ.",
        hint_en: "Try again in a few minutes; if it lasts, call the support hotline.";
    /// Too many password checks are waiting: this one is not queued (a flood elsewhere).
    ServerBusy = "SERVER_BUSY", 503,
        vi: "Máy chủ đang quá tải. Vui lòng thử lại sau ít giây.",
        en: "The server is overloaded. Please try again in a few seconds.",
        hint_vi: "Đây là tình trạng tạm thời; mật khẩu, token và tài khoản của bạn không bị ảnh hưởng. Thử lại sau vài giây.",
        hint_en: "This is temporary; your password, token and account are not affected. Try again in a few seconds.";

    // --- the client's own side: token, reader, network (never sent by the server) ---
    /// The app's settings name a PKCS#11 module that was neither found by discovery nor
    /// picked in the native file dialog (the web view cannot name a library to load).
    ModuleNotChosen = "MODULE_NOT_CHOSEN", 0,
        vi: "Chỉ dùng được thư viện token tìm thấy trên máy hoặc chọn bằng nút “Chọn tệp…”.",
        en: "Use a token library found on this computer, or choose one with “Choose file…”.",
        hint_vi: "Mở Cài đặt, chọn thư viện trong danh sách hoặc bấm “Chọn tệp…” để chọn tệp .dll của nhà cung cấp chữ ký số.",
        hint_en: "Open Settings, pick a library from the list, or press “Choose file…” to pick your signature provider's .dll.";
    /// The PIN was wrong; more tries remain.
    PinIncorrect = "PIN_INCORRECT", 0,
        vi: "Mã PIN không đúng.",
        en: "The PIN is wrong.",
        hint_vi: "Kiểm tra phím Caps Lock và tắt bộ gõ tiếng Việt (Unikey/EVKey) rồi nhập lại. Token sẽ bị khóa nếu nhập sai nhiều lần.",
        hint_en: "Check Caps Lock and turn the Vietnamese input method (Unikey/EVKey) off, then retry. The token locks after several wrong PINs.";
    /// One try is left; the caller must confirm before the token is tried again.
    PinFinalTry = "PIN_FINAL_TRY", 0,
        vi: "Chỉ còn một lần nhập mã PIN. Nếu sai, token sẽ bị khóa.",
        en: "One PIN try is left. If it is wrong, the token locks.",
        hint_vi: "Chỉ tiếp tục khi chắc chắn mã PIN. Nếu không nhớ, liên hệ nhà cung cấp chữ ký số thay vì thử tiếp.",
        hint_en: "Continue only if you are sure of the PIN. If not, contact the CA instead of trying.";
    /// The token's user PIN is locked; only the CA can unlock it.
    PinLocked = "PIN_LOCKED", 0,
        vi: "Token đã bị khóa do nhập sai mã PIN quá nhiều lần.",
        en: "The token is locked after too many wrong PINs.",
        hint_vi: "Chỉ nhà cung cấp chữ ký số (CA) mở khóa được: mang token đến điểm giao dịch của CA hoặc gọi tổng đài của CA đó (số in trên hợp đồng hoặc hộp token).",
        hint_en: "Only the CA can unlock it: bring the token to the CA's office or call the CA's own hotline (on the contract or the token's box).";
    /// The token requires a new PIN before use.
    PinMustChange = "PIN_MUST_CHANGE", 0,
        vi: "Mã PIN của token cần được đổi trước khi sử dụng.",
        en: "The token's PIN must be changed before use.",
        hint_vi: "Đổi mã PIN bằng phần mềm quản lý token của nhà cung cấp, rồi thử lại.",
        hint_en: "Change the PIN with the CA's token manager, then retry.";
    /// The PIN has a length or characters the token cannot take.
    PinInvalid = "PIN_INVALID", 0,
        vi: "Mã PIN không hợp lệ (sai độ dài hoặc có ký tự không cho phép).",
        en: "The PIN is not valid (wrong length or characters).",
        hint_vi: "Mã PIN thường gồm 6 đến 16 ký tự; kiểm tra bộ gõ tiếng Việt đã tắt.",
        hint_en: "A PIN usually has 6 to 16 characters; check the Vietnamese input method is off.";
    /// No token is plugged in (or none has a certificate slot).
    NoToken = "NO_TOKEN", 0,
        vi: "Không tìm thấy token chữ ký số.",
        en: "No digital-signature token was found.",
        hint_vi: "Cắm token vào cổng USB, đợi đèn sáng rồi thử lại; thử cổng USB khác nếu vẫn không thấy.",
        hint_en: "Plug the token into a USB port, wait for its light, and retry; try another port if needed.";
    /// Several tokens are plugged in and none was chosen.
    SeveralTokens = "SEVERAL_TOKENS", 0,
        vi: "Đang cắm nhiều token; hãy chọn token của doanh nghiệp.",
        en: "Several tokens are plugged in; choose the business's token.",
        hint_vi: "Rút các token khác ra hoặc chọn đúng token trong danh sách.",
        hint_en: "Unplug the other tokens or pick the right one in the list.";
    /// The token was removed while in use.
    TokenRemoved = "TOKEN_REMOVED", 0,
        vi: "Token đã bị rút ra trong khi đang sử dụng.",
        en: "The token was removed while in use.",
        hint_vi: "Cắm lại token và làm lại từ đầu; không rút token khi đang ký.",
        hint_en: "Plug the token in again and start over; do not unplug it while signing.";
    /// No certificate with a private key on the token.
    NoCertificate = "NO_CERTIFICATE", 0,
        vi: "Token không có chứng thư số dùng để ký.",
        en: "The token holds no signing certificate.",
        hint_vi: "Token có thể chưa được nạp chứng thư hoặc là token khác; liên hệ nhà cung cấp chữ ký số.",
        hint_en: "The token may hold no certificate or be another token; contact the CA.";
    /// No PKCS#11 module of a known Vietnamese CA was found.
    ModuleNotFound = "MODULE_NOT_FOUND", 0,
        vi: "Không tìm thấy thư viện điều khiển (PKCS#11) của token.",
        en: "The token's driver library (PKCS#11) was not found.",
        hint_vi: "Cài phần mềm quản lý token của nhà cung cấp (VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA, …) hoặc chỉ đường dẫn thư viện trong Cài đặt.",
        hint_en: "Install the CA's token software (VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA, …) or set the library path in Settings.";
    /// The module exists but could not be loaded or initialised.
    ModuleLoadFailed = "MODULE_LOAD_FAILED", 0,
        vi: "Không nạp được thư viện điều khiển của token.",
        en: "The token's driver library could not be loaded.",
        hint_vi: "Cài lại phần mềm quản lý token (đúng bản 32/64 bit) và khởi động lại máy.",
        hint_en: "Reinstall the token software (matching 32/64 bit) and restart the computer.";
    /// The token answered with an error it should not give.
    /// Another program (the CA's signing plugin) holds the token: a login or signature
    /// failed twice with a device or session error while the token was present.
    TokenInUse = "TOKEN_IN_USE", 0,
        vi: "Token đang bị một phần mềm khác chiếm dụng (thường là phần mềm ký số của nhà cung cấp chữ ký số).",
        en: "Another program is holding the token (usually the CA's own signing tool).",
        hint_vi: "Đóng phần mềm ký số của nhà cung cấp (VNPT-CA Plugin, Viettel-CA, BkavCA Signer…) ở khay đồng hồ, rút token ra, cắm lại rồi thử lại. Mã PIN chưa bị tính thêm lần sai nào.",
        hint_en: "Close the CA's signing tool (VNPT-CA Plugin, Viettel-CA, BkavCA Signer…) in the system tray, unplug and replug the token, then retry. No extra wrong PIN was counted.";
    /// The system clipboard could not be written (or did not hold the text afterwards).
    ClipboardUnavailable = "CLIPBOARD_UNAVAILABLE", 0,
        vi: "Không sao chép được vào bộ nhớ tạm (clipboard) của máy tính.",
        en: "The text could not be copied to the computer's clipboard.",
        hint_vi: "Chọn toàn bộ nội dung trong ô báo cáo (Ctrl+A) rồi sao chép (Ctrl+C), hoặc bấm \"Lưu ra tệp\" và gửi tệp cho nhân viên hỗ trợ.",
        hint_en: "Select the whole report in its box (Ctrl+A) and copy it (Ctrl+C), or press \"Save to a file\" and send the file to support.";
    TokenFailure = "TOKEN_FAILURE", 0,
        vi: "Token báo lỗi khi xử lý.",
        en: "The token reported an error.",
        hint_vi: "Rút token ra, cắm lại rồi thử lại. Nếu lặp lại, gửi báo cáo hỗ trợ cho bộ phận kỹ thuật.",
        hint_en: "Unplug and replug the token, then retry. If it repeats, send the support report to the technical team.";
    /// The smart-card service (PC/SC) is not running.
    ReaderServiceUnavailable = "READER_SERVICE_UNAVAILABLE", 0,
        vi: "Dịch vụ đọc thẻ thông minh (PC/SC) không chạy.",
        en: "The smart-card service (PC/SC) is not running.",
        hint_vi: "Windows: cắm token vào trước (Windows chỉ bật dịch vụ Smart Card khi có đầu đọc); nếu đã cắm mà vẫn báo lỗi, mở services.msc và bật dịch vụ \"Smart Card\". Linux: cài và chạy pcscd.",
        hint_en: "Windows: plug the token in first (Windows starts its Smart Card service only while a reader is connected); if it is plugged in and this stays, open services.msc and start the \"Smart Card\" service. Linux: install and start pcscd.";
    /// The server could not be reached at all.
    ServerUnreachable = "SERVER_UNREACHABLE", 0,
        vi: "Không kết nối được tới máy chủ.",
        en: "The server cannot be reached.",
        hint_vi: "Kiểm tra kết nối Internet, tường lửa hoặc proxy, và địa chỉ máy chủ trong Cài đặt.",
        hint_en: "Check the Internet connection, firewall or proxy, and the server address in Settings.";
    /// TLS failed (certificate, clock, interception).
    ServerTls = "SERVER_TLS", 0,
        vi: "Kết nối bảo mật tới máy chủ không hợp lệ.",
        en: "The secure connection to the server failed.",
        hint_vi: "Kiểm tra ngày giờ của máy tính; phần mềm diệt virus hoặc proxy có thể đang chặn HTTPS.",
        hint_en: "Check the computer's date and time; an antivirus or proxy may be intercepting HTTPS.";
    /// The server did not answer in time.
    ServerTimeout = "SERVER_TIMEOUT", 0,
        vi: "Máy chủ không phản hồi kịp thời.",
        en: "The server did not answer in time.",
        hint_vi: "Thử lại sau ít phút; nếu mạng chậm, thử mạng khác.",
        hint_en: "Try again in a few minutes; try another network if it is slow.";
    /// The configured server address is not https (and not loopback).
    InsecureServerUrl = "INSECURE_SERVER_URL", 0,
        vi: "Địa chỉ máy chủ phải bắt đầu bằng https://.",
        en: "The server address must start with https://.",
        hint_vi: "Sửa địa chỉ máy chủ trong Cài đặt; http:// chỉ dùng cho máy chủ thử nghiệm trên chính máy này.",
        hint_en: "Fix the server address in Settings; http:// is only for a test server on this computer.";
    /// The server's challenge names another origin than the one reached: not signed.
    OriginMismatch = "ORIGIN_MISMATCH", 0,
        vi: "Máy chủ trả lời không khớp với địa chỉ đã kết nối; đã dừng để bảo vệ chữ ký của bạn.",
        en: "The server's answer does not match the address connected to; stopped to protect your signature.",
        hint_vi: "Có thể địa chỉ máy chủ bị cấu hình sai hoặc bị giả mạo. Báo cho bộ phận kỹ thuật.",
        hint_en: "The server address may be misconfigured or spoofed. Tell the technical team.";
    /// The server answered something that is not protocol v1.
    UnexpectedResponse = "UNEXPECTED_RESPONSE", 0,
        vi: "Máy chủ trả lời không đúng định dạng.",
        en: "The server's answer is not in the expected format.",
        hint_vi: "Kiểm tra địa chỉ máy chủ và cập nhật phần mềm lên bản mới nhất.",
        hint_en: "Check the server address and update the software.";
    /// The OS keyring cannot store the session.
    KeyringUnavailable = "KEYRING_UNAVAILABLE", 0,
        vi: "Không lưu được phiên đăng nhập vào kho khóa của hệ điều hành.",
        en: "The session could not be stored in the system keyring.",
        hint_vi: "Phiên sẽ không được ghi nhớ; lần sau bạn cần đăng nhập lại. Trên Linux cần gnome-keyring hoặc KWallet.",
        hint_en: "The session will not be remembered; log in again next time. On Linux a gnome-keyring or KWallet is needed.";
    /// A command needs a session and there is none.
    NotLoggedIn = "NOT_LOGGED_IN", 0,
        vi: "Bạn chưa đăng nhập.",
        en: "You are not logged in.",
        hint_vi: "Đăng nhập trước, rồi thử lại.",
        hint_en: "Log in first, then retry.";
}

impl ErrorCode {
    /// True for codes the client raises itself (never sent by the server).
    pub fn is_client_side(self) -> bool {
        self.http_status() == 0
    }

    /// The message when the answer says how long to wait (`Retry-After`): the wait in
    /// words, so a user is never left guessing ("thử lại sau 15 phút").
    pub fn message_with_wait(self, lang: Lang, secs: u64) -> String {
        let wait = wait_in_words(lang, secs);
        match (self, lang) {
            (ErrorCode::RateLimited, Lang::Vi) => format!("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {wait}."),
            (ErrorCode::RateLimited, Lang::En) => format!("Too many attempts. Please try again in {wait}."),
            (_, Lang::Vi) => format!("{} Vui lòng thử lại sau {wait}.", self.message(lang)),
            (_, Lang::En) => format!("{} Please try again in {wait}.", self.message(lang)),
        }
    }
}

/// A wait as a person says it, rounded up: "45 giây", "15 phút", "1 giờ", "2 giờ 30 phút".
pub fn wait_in_words(lang: Lang, secs: u64) -> String {
    let secs = secs.max(1);
    let plural = |n: u64, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    if secs < 60 {
        return match lang {
            Lang::Vi => format!("{secs} giây"),
            Lang::En => plural(secs, "second"),
        };
    }
    let minutes = secs.div_ceil(60);
    let (h, m) = (minutes / 60, minutes % 60);
    match (lang, h, m) {
        (Lang::Vi, 0, m) => format!("{m} phút"),
        (Lang::Vi, h, 0) => format!("{h} giờ"),
        (Lang::Vi, h, m) => format!("{h} giờ {m} phút"),
        (Lang::En, 0, m) => plural(m, "minute"),
        (Lang::En, h, 0) => plural(h, "hour"),
        (Lang::En, h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for ErrorCode {}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s}")))
    }
}

/// The OpenAPI schemas of the catalogue: [`ErrorCode`] is every code (in a support
/// report's facts, the app's own codes too); [`AnsweredCode`] is the `code` of an error
/// answer, only the codes the server answers with (a status other than 0).
#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;

    use super::ErrorCode;

    fn codes(description: &str, keep: impl Fn(ErrorCode) -> bool) -> RefOr<Schema> {
        let codes: Vec<&str> = ErrorCode::ALL.iter().copied().filter(|c| keep(*c)).map(ErrorCode::as_str).collect();
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)).description(Some(description)).into()
    }

    impl utoipa::PartialSchema for ErrorCode {
        fn schema() -> RefOr<Schema> {
            codes("A code of the error catalogue (docs/errors.md): the server's and the app's own.", |_| true)
        }
    }
    impl utoipa::ToSchema for ErrorCode {}

    /// The `code` of an error answer (the schema only; on the wire it is a string).
    #[derive(Debug)]
    pub struct AnsweredCode;

    impl utoipa::PartialSchema for AnsweredCode {
        fn schema() -> RefOr<Schema> {
            codes("A code the server answers with; each operation lists its own under its statuses.", |c| {
                c.http_status() != 0
            })
        }
    }
    impl utoipa::ToSchema for AnsweredCode {}
}
#[cfg(feature = "openapi")]
pub use schema::AnsweredCode;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Letters only Vietnamese has; every Vietnamese message must use at least one, so a
    /// message that lost its diacritics (or was left in English) is caught.
    const VI_MARKS: &str = "ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ";

    #[test]
    fn every_code_has_both_languages_and_a_hint() {
        for code in ErrorCode::ALL {
            for lang in [Lang::Vi, Lang::En] {
                assert!(!code.message(lang).trim().is_empty(), "{code} {lang:?} message");
                assert!(!code.hint(lang).trim().is_empty(), "{code} {lang:?} hint");
            }
            let vi = format!("{} {}", code.message(Lang::Vi), code.hint(Lang::Vi)).to_lowercase();
            assert!(vi.chars().any(|c| VI_MARKS.contains(c)), "{code}: Vietnamese text without diacritics");
            assert_ne!(code.message(Lang::Vi), code.message(Lang::En), "{code}: untranslated");
        }
    }

    #[test]
    fn a_wait_is_said_in_words_rounded_up() {
        assert_eq!(wait_in_words(Lang::Vi, 0), "1 giây");
        assert_eq!(wait_in_words(Lang::Vi, 45), "45 giây");
        assert_eq!(wait_in_words(Lang::Vi, 61), "2 phút");
        assert_eq!(wait_in_words(Lang::Vi, 900), "15 phút");
        assert_eq!(wait_in_words(Lang::Vi, 3600), "1 giờ");
        assert_eq!(wait_in_words(Lang::Vi, 9000), "2 giờ 30 phút");
        assert_eq!(wait_in_words(Lang::En, 1), "1 second");
        assert_eq!(wait_in_words(Lang::En, 60), "1 minute");
        assert_eq!(wait_in_words(Lang::En, 86400), "24 hours");
        assert_eq!(wait_in_words(Lang::En, 3660), "1 hour 1 minute");
        assert_eq!(
            ErrorCode::RateLimited.message_with_wait(Lang::Vi, 600),
            "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau 10 phút."
        );
        assert!(ErrorCode::ServerBusy.message_with_wait(Lang::En, 1).ends_with("Please try again in 1 second."));
    }

    #[test]
    fn codes_are_unique_upper_snake_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
            assert_eq!(ErrorCode::parse(s), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
            assert!((400..600).contains(&code.http_status()) || code.is_client_side());
        }
    }

    #[test]
    fn language_from_header() {
        assert_eq!(Lang::from_header("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_header("vi-VN,vi;q=0.9,en;q=0.5"), Lang::Vi);
        assert_eq!(Lang::from_header(""), Lang::Vi);
        assert_eq!(Lang::from_header("en_US.UTF-8"), Lang::En);
    }
}
