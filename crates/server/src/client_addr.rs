//! The client's address behind reverse proxies. Only proxies the operator lists
//! (`trusted_proxies`, CIDRs) are believed, and of `X-Forwarded-For` only what they
//! appended: the rightmost address that is not a trusted proxy is the client. Whatever a
//! client writes into the header itself sits to the left of that and is never read, so
//! a spoofed header neither escapes a limit nor forges the audit's address. IPv6 clients
//! are limited per /64 (one subscriber's prefix), and the audit keeps the whole address.

use std::net::IpAddr;

/// A list of trusted proxies as CIDRs (`10.0.0.0/8`, `127.0.0.1`, `::1/128`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyList(Vec<(IpAddr, u8)>);

impl ProxyList {
    /// Parses comma-separated CIDRs; a bare address is a /32 (/128).
    pub fn parse(s: &str) -> Result<ProxyList, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (addr, bits) = match part.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (part, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| format!("{part:?} is not an address or CIDR"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{part:?}: prefix length must be 0–{max}"))?,
                None => max,
            };
            out.push((canonical(addr), bits));
        }
        Ok(ProxyList(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, bits)| in_prefix(ip, *net, *bits))
    }
}

impl std::fmt::Display for ProxyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(a, b)| format!("{a}/{b}")).collect();
        f.pad(&parts.join(","))
    }
}

/// The client of a request from `peer` carrying these `X-Forwarded-For` values (every
/// header line, in order). A peer that is not a trusted proxy is the client, whatever it
/// sent. Behind trusted proxies: the rightmost forwarded address that is not one of them;
/// an entry that is not an address ends the walk at the proxy that wrote it (that proxy
/// is then the client as far as we can know). All trusted: the leftmost.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    proxies: &ProxyList,
) -> IpAddr {
    let peer = canonical(peer);
    if !proxies.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if proxies.contains(ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// Whether the client reached us over HTTPS: only a trusted proxy can say so, in the
/// last `X-Forwarded-Proto` value (the one it wrote).
pub fn forwarded_https<'a>(
    peer: IpAddr,
    forwarded_proto: impl IntoIterator<Item = &'a str>,
    proxies: &ProxyList,
) -> bool {
    proxies.contains(peer)
        && forwarded_proto
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .last()
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// What a client's limits are counted under: an IPv4 address, or an IPv6 /64.
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The network a client address belongs to, as one holder is given it: an IPv4 /24, an
/// IPv6 /48 (a site's prefix; one host with a /48 has 65,536 /64 clients). Budgets that a
/// site must not multiply by its addresses (support codes) are counted under it.
pub fn network_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// An `X-Forwarded-For` entry: an address, possibly `[v6]:port` or `v4:port` as some
/// proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(a, _)| a.parse().ok()).map(canonical);
    }
    hop.rsplit_once(':').filter(|(a, _)| !a.contains(':')).and_then(|(a, _)| a.parse().ok()).map(canonical)
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_prefix(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_spoofed_header_is_never_read() {
        let proxies = ProxyList::parse("10.0.0.0/8").unwrap();
        // Straight from the internet: the header is the client's own words.
        assert_eq!(client_address(ip("203.0.113.7"), ["198.51.100.1"], &proxies), ip("203.0.113.7"));
        // Through the proxy: what the client wrote is left of what the proxy appended.
        assert_eq!(client_address(ip("10.0.0.2"), ["1.2.3.4, 203.0.113.7"], &proxies), ip("203.0.113.7"));
        // Two proxies, two header lines.
        assert_eq!(client_address(ip("10.0.0.2"), ["9.9.9.9, 203.0.113.7", "10.1.1.1"], &proxies), ip("203.0.113.7"));
        // Junk where the proxy wrote: the proxy is all we know.
        assert_eq!(client_address(ip("10.0.0.2"), ["203.0.113.7, garbage"], &proxies), ip("10.0.0.2"));
        // No header through the proxy: the proxy.
        assert_eq!(client_address(ip("10.0.0.2"), [], &proxies), ip("10.0.0.2"));
        // Ports and brackets as some proxies write them; v4-mapped peers.
        assert_eq!(client_address(ip("::ffff:10.0.0.2"), ["[2001:db8::1]:443"], &proxies), ip("2001:db8::1"));
        assert_eq!(client_address(ip("10.0.0.2"), ["203.0.113.7:5555"], &proxies), ip("203.0.113.7"));
    }

    #[test]
    fn only_a_trusted_proxy_says_https() {
        let proxies = ProxyList::parse("10.0.0.0/8").unwrap();
        assert!(forwarded_https(ip("10.0.0.2"), ["http, https"], &proxies));
        assert!(!forwarded_https(ip("10.0.0.2"), ["https, http"], &proxies));
        assert!(!forwarded_https(ip("203.0.113.7"), ["https"], &proxies), "a client saying it is not HTTPS");
        assert!(!forwarded_https(ip("10.0.0.2"), [], &proxies));
    }

    #[test]
    fn no_trusted_proxy_means_the_peer() {
        let none = ProxyList::default();
        assert_eq!(client_address(ip("127.0.0.1"), ["1.2.3.4"], &none), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff::9")), limit_key(ip("2001:db8:1:2::5")));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }

    #[test]
    fn cidrs_parse_and_match() {
        let p = ProxyList::parse("127.0.0.1, 10.0.0.0/8, fd00::/8").unwrap();
        assert!(p.contains(ip("127.0.0.1")) && !p.contains(ip("127.0.0.2")));
        assert!(p.contains(ip("10.255.0.1")) && !p.contains(ip("11.0.0.1")));
        assert!(p.contains(ip("fd12::1")) && !p.contains(ip("fe80::1")));
        assert!(ProxyList::parse("10.0.0.0/33").is_err());
        assert!(ProxyList::parse("proxy.local").is_err());
        assert_eq!(p.to_string(), "127.0.0.1/32,10.0.0.0/8,fd00::/8");
    }

    #[test]
    fn a_network_is_a_v4_slash_24_or_a_v6_slash_48() {
        assert_eq!(network_key(ip("203.0.113.7")), "203.0.113.0/24");
        assert_eq!(network_key(ip("::ffff:203.0.113.7")), "203.0.113.0/24");
        assert_eq!(network_key(ip("2001:db8:1:a::1")), network_key(ip("2001:db8:1:ffff::9")));
        assert_eq!(network_key(ip("2001:db8:1:a::1")), "2001:db8:1::/48");
        assert_ne!(network_key(ip("2001:db8:1::1")), network_key(ip("2001:db8:2::1")));
    }
}
