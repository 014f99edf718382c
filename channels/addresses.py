"""Which address a request came from, believing X-Forwarded-For only from our own reverse proxies.

Plain strings in and out (no web framework types), so the channels and the console (above them) share it.
``client_key`` is what limits and digests are keyed on: an IPv6 client by its /64 network, since one
subscriber is usually given a whole /64 and can rotate addresses within it at will.
"""
from __future__ import annotations

import functools
import ipaddress
from typing import FrozenSet, Iterable, Optional, Tuple, Union

UNKNOWN = "unknown"
IPV6_PREFIX = 64  # the network one IPv6 subscriber holds
_Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _normalise(value: str) -> Optional[str]:
    """An IP address in canonical form ('[::1]:443' -> '::1', '::ffff:1.2.3.4' -> '1.2.3.4'), or None."""
    value = value.strip().strip('"')
    if value.startswith("["):  # [IPv6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4:port (an IPv6 address has several colons)
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _network(entry: str) -> Optional[_Network]:
    """'10.0.0.0/8', '10.0.0.5' or '::1' as a network; None for anything else."""
    address, _, prefix = entry.partition("/")
    ip = _normalise(address)
    if ip is None:
        return None
    try:
        return ipaddress.ip_network(f"{ip}/{prefix}" if prefix else ip, strict=False)
    except ValueError:
        return None


@functools.lru_cache(maxsize=16)
def _trusted(entries: Tuple[str, ...]) -> Tuple[Tuple[_Network, ...], FrozenSet[str]]:
    """Trusted proxies as networks, plus entries that are not IP addresses (host names), compared as text."""
    networks, names = [], set()
    for entry in (e.strip() for e in entries):
        network = _network(entry) if entry else None
        if network is not None:
            networks.append(network)
        elif entry:
            names.add(entry)
    return tuple(networks), frozenset(names)


def is_trusted(address: Optional[str], trusted: Iterable[str]) -> bool:
    """True when ``address`` is one of the ``trusted`` proxies (addresses, networks or host names)."""
    if not address:
        return False
    networks, names = _trusted(tuple(trusted))
    if address.strip() in names:
        return True
    ip = _normalise(address)
    if ip is None:
        return False
    parsed = ipaddress.ip_address(ip)
    return any(parsed.version == net.version and parsed in net for net in networks)


def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted: Iterable[str]) -> str:
    """The client's address: the direct ``peer``, unless that is a trusted proxy; then the right-most
    address of ``forwarded_for`` (X-Forwarded-For, several headers joined with commas) that is not a
    trusted proxy itself. Entries left of it were written by the client and are never believed.

    Returns ``UNKNOWN`` when there is no peer; a value that is not an IP address is returned as given
    (cut to 64 characters) so that it still keys limits per client.
    """
    if not peer:
        return UNKNOWN
    trusted = tuple(trusted)
    if not is_trusted(peer, trusted):
        return _normalise(peer) or peer[:64]
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    if not hops:
        return _normalise(peer) or peer[:64]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return _normalise(hop) or hop[:64]
    # Every hop is one of our proxies: the furthest one is the best we know.
    return _normalise(hops[0]) or hops[0][:64]


def client_key(address: str) -> str:
    """What limits key a client on: an IPv4 address as it is, an IPv6 one as its /64 network
    ('2001:db8:1:2:a::1' -> '2001:db8:1:2::/64'); anything else (UNKNOWN, a host name) as given."""
    ip = _normalise(address or "")
    if ip is None:
        return address
    parsed = ipaddress.ip_address(ip)
    if parsed.version == 4:
        return ip
    return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
