//! Who may use the console: one random session token per `serve` run, printed on the
//! operator's terminal, exchanged once for an HttpOnly SameSite=Strict cookie; and one random
//! CSRF token that every state-changing form carries. Both come from the operating system's
//! random source, and both are compared in constant time, so neither leaks through timing.
//!
//! Pure functions only: the server applies them to each request.

use std::net::SocketAddr;

/// Name of the session cookie.
pub const COOKIE: &str = "bw_console";

/// Bytes of randomness per token (hex-encoded: 64 characters).
pub const TOKEN_BYTES: usize = 32;

/// Strict Content-Security-Policy: no script at all, styles only from the console's own
/// stylesheet, images only inline (`data:`, the charts are inline SVG), forms only to itself,
/// never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The two secrets of one `serve` run.
#[derive(Clone)]
pub struct Secrets {
    /// Printed at start; the session cookie's value.
    pub token: String,
    /// Hidden field of every POST form.
    pub csrf: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

impl Secrets {
    /// Fresh tokens from the OS random source; Err when the OS has none to give.
    pub fn generate() -> Result<Secrets, getrandom::Error> {
        Ok(Secrets { token: random_hex(TOKEN_BYTES)?, csrf: random_hex(TOKEN_BYTES)? })
    }

    /// True when a request's Cookie header carries the session token.
    pub fn cookie_ok(&self, cookie_header: Option<&str>) -> bool {
        cookie_header.and_then(|h| cookie_value(h, COOKIE)).is_some_and(|v| constant_time_eq(v.as_bytes(), self.token.as_bytes()))
    }

    pub fn token_ok(&self, given: &str) -> bool {
        constant_time_eq(given.as_bytes(), self.token.as_bytes())
    }

    pub fn csrf_ok(&self, given: &str) -> bool {
        constant_time_eq(given.as_bytes(), self.csrf.as_bytes())
    }
}

pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Equality whose time depends only on the lengths (which are public: every token is 64
/// characters), never on where the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimizer from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

/// The value of cookie `name` in a Cookie header (`a=1; b=2`).
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|part| part.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The Set-Cookie header value that logs the browser in: not readable by script, never sent
/// by cross-site requests, for the whole console, gone when the browser closes.
pub fn session_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/")
}

/// The URL printed at start: opening it logs the browser in.
pub fn login_url(addr: SocketAddr, token: &str) -> String {
    format!("http://{}/login?token={token}", url_host(addr))
}

fn url_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// Whether a request's Host header names this server. On a loopback address only the
/// loopback names are accepted, so a web page that rebinds its own DNS name to 127.0.0.1
/// cannot reach the console; on an address the operator chose with `--listen`, any name is.
pub fn host_allowed(host: Option<&str>, listen: SocketAddr) -> bool {
    if !listen.ip().is_loopback() {
        return true;
    }
    let Some(host) = host else { return false };
    let port = listen.port();
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|h| host == format!("{h}:{port}")) || (port == 80 && ["127.0.0.1", "localhost", "[::1]"].contains(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = Secrets::generate().unwrap();
        let b = Secrets::generate().unwrap();
        assert_eq!(a.token.len(), 64);
        assert!(a.token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.token, b.token);
        assert_ne!(a.token, a.csrf);
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let s = Secrets { token: "t0k".into(), csrf: "c".into() };
        assert!(s.cookie_ok(Some("a=1; bw_console=t0k; b=2")));
        assert!(!s.cookie_ok(Some("a=1; bw_console=t0x")));
        assert!(!s.cookie_ok(Some("xbw_console=t0k")));
        assert!(!s.cookie_ok(None));
        assert!(session_cookie("t0k").contains("HttpOnly") && session_cookie("t0k").contains("SameSite=Strict"));
    }

    #[test]
    fn loopback_servers_accept_only_loopback_host_names() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(host_allowed(Some("127.0.0.1:8080"), local));
        assert!(host_allowed(Some("localhost:8080"), local));
        assert!(!host_allowed(Some("evil.example:8080"), local));
        assert!(!host_allowed(Some("127.0.0.1:9090"), local));
        assert!(!host_allowed(None, local));
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(host_allowed(Some("console.internal:8080"), any));
        assert_eq!(login_url(local, "x"), "http://127.0.0.1:8080/login?token=x");
    }
}
