//! Server-rendered HTML: the activation page (public) and the staff console (its own
//! listener). No script runs on these pages: forms post, the server answers with a
//! page or a redirect. Pages are maud templates: every value is escaped unless it is
//! wrapped in `PreEscaped`, which only this file's constant style sheet is.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bhxh_protocol::{ErrorCode, Lang};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Vietnamese or English text, picked by the page's language.
pub fn tr(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

const STYLE: &str = "
:root{--ink:#17212b;--muted:#5b6770;--line:#d6dde3;--brand:#0b5cad;--ok:#1d7a35;--bad:#b3261e;--bg:#f4f6f8}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--brand);color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header strong{font-size:1.1rem}header nav{margin-left:auto;display:flex;gap:.8rem;align-items:center}
header a,header button{color:#fff}
main{max-width:1320px;margin:1.2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
.narrow{max-width:560px;margin-left:auto;margin-right:auto}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}h2{font-size:1.15rem;margin:.2rem 0 .6rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password],input[type=search],input[type=email],select,textarea{width:100%;padding:.5rem;border:1px solid #9aa6b1;border-radius:6px;font:inherit}
button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid #9aa6b1;background:#fff;cursor:pointer}
button.primary{background:var(--brand);border-color:var(--brand);color:#fff}
button.danger{border-color:var(--bad);color:var(--bad)}
button.link{border:none;background:none;padding:0;text-decoration:underline}
.row{display:flex;gap:.6rem;align-items:flex-end;flex-wrap:wrap}.row>*{flex:1}.row>button{flex:0 0 auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef2f5}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.muted{color:var(--muted)}
.notice{border-left:4px solid var(--ok);background:#eef8f0;padding:.6rem .9rem;margin-bottom:1rem}
.error{border-left:4px solid var(--bad);background:#fdeeee;padding:.6rem .9rem;margin-bottom:1rem}
pre.report{white-space:pre-wrap;font:13px/1.45 ui-monospace,monospace;background:#f7f9fa;border:1px solid var(--line);border-radius:6px;padding:.6rem;max-height:28rem;overflow:auto}
code{font-family:ui-monospace,monospace;background:#eef2f5;padding:0 .25rem;border-radius:3px;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{font-weight:600}dd{margin:0}
.actions{display:flex;gap:.8rem;flex-wrap:wrap;align-items:flex-start}.actions form,.actions details.fold{border:1px solid var(--line);border-radius:8px;padding:.7rem;flex:1;min-width:260px}.actions details.fold form{border:none;padding:0}
.scroll{overflow-x:auto}td.nowrap{white-space:nowrap}td.detail{max-width:0;width:100%;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
details.fold>summary{cursor:pointer;font-weight:600}details.fold>summary h2{display:inline}details.fold[open]>summary{margin-bottom:.6rem}
";

/// A whole page: `title`, the header's navigation, the body.
pub fn page(lang: Lang, status: StatusCode, title: &str, brand: &str, nav: Markup, body: Markup) -> Response {
    page_with(lang, status, title, brand, nav, body, None)
}

/// [`page`] that the browser loads again every `refresh` seconds (no script needed).
pub fn page_with(
    lang: Lang,
    status: StatusCode,
    title: &str,
    brand: &str,
    nav: Markup,
    body: Markup,
    refresh: Option<u32>,
) -> Response {
    let html = html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                @if let Some(secs) = refresh { meta http-equiv="refresh" content=(secs); }
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { strong { (brand) } nav { (nav) } }
                main { (body) }
            }
        }
    }
    .into_string();
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // No script, no framing, forms only back to us; nothing cached, no Referer (links
    // carry secrets), no MIME sniffing.
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    r
}

/// An error box on a page for the user: message, hint and the reference to read out, as
/// the app shows them (the catalogue code only as the box's `data-code`).
pub fn error_box(lang: Lang, code: ErrorCode, reference: &str) -> Markup {
    error_box_with(lang, code, reference, false)
}

/// [`error_box`] for the staff console: with the catalogue code, which staff look up.
pub fn staff_error_box(lang: Lang, code: ErrorCode, reference: &str) -> Markup {
    error_box_with(lang, code, reference, true)
}

fn error_box_with(lang: Lang, code: ErrorCode, reference: &str, with_code: bool) -> Markup {
    html! {
        div class="error" role="alert" data-code=(code.as_str()) {
            p { strong { (code.message(lang)) } }
            p { (code.hint(lang)) }
            p class="muted" {
                @if with_code { (tr(lang, "Mã lỗi", "Error code")) ": " code { (code.as_str()) } " · " }
                (tr(lang, "Mã tham chiếu", "Reference")) ": " code data-testid="reference" { (reference) }
            }
        }
    }
}

/// What a link page is asked with (`GET ?t=…&lang=…`) and what its button posts: the
/// link's token and the language the link or the page asks for.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The link's token, as the mail gave it.
    #[serde(default)]
    pub t: String,
    /// `vi` or `en`; without it, the browser's language.
    pub lang: Option<String>,
}

/// A link page's language: the one asked for (`vi`, `en`), else the browser's.
pub fn page_lang(browser: Lang, asked: Option<&str>) -> Lang {
    match asked {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => browser,
    }
}

/// The switch to the other language on the link page at `path`, keeping its token.
pub fn lang_switch(path: &str, lang: Lang, token: &str) -> Markup {
    let (to, label) = match lang {
        Lang::Vi => ("en", "English"),
        Lang::En => ("vi", "Tiếng Việt"),
    };
    html! { a href={ (path) "?t=" (token) "&lang=" (to) } lang=(to) { (label) } }
}

/// "Need help? Call …" with the configured support hotline, the one desk that can look
/// up the reference shown beside it (under a link page's answer or error).
pub fn hotline_line(lang: Lang, hotline: &str) -> Markup {
    let tel: String = hotline.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    html! {
        p data-testid="hotline" {
            (tr(lang, "Cần hỗ trợ? Gọi tổng đài ", "Need help? Call the support hotline "))
            a href={ "tel:" (tel) } { (hotline) }
            (tr(lang, " và đọc mã tham chiếu.", " and read out the reference."))
        }
    }
}

/// `s` as one segment of a URL path (letters, digits and `-_.` as they are).
pub fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The status an error page answers with.
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_by_default() {
        let hostile = "<a href=\"x\">'&'</a>";
        assert_eq!(html! { p title=(hostile) { (hostile) } }.into_string(),
            "<p title=\"&lt;a href=&quot;x&quot;&gt;'&amp;'&lt;/a&gt;\">&lt;a href=&quot;x&quot;&gt;'&amp;'&lt;/a&gt;</p>");
        assert_eq!(html! { ("Nguyễn Văn A") }.into_string(), "Nguyễn Văn A");
        let page = page(Lang::Vi, StatusCode::OK, hostile, "B", html! {}, html! { (hostile) });
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
