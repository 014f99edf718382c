"""Which address a request came from (X-Forwarded-For only from trusted proxies) and the key limits use."""
import pytest

from channels.addresses import UNKNOWN, client_address, client_key

STRANGER, OWNER, PROXY = "203.0.113.9", "198.51.100.7", "10.0.0.2"


@pytest.mark.parametrize("peer, forwarded, trusted, expected", [
    (STRANGER, OWNER, (), STRANGER),  # a client's own X-Forwarded-For is not believed
    (STRANGER, OWNER, (PROXY,), STRANGER),  # nor when proxies are configured but it is not one
    (PROXY, OWNER, (PROXY,), OWNER),
    (PROXY, f"{OWNER}, {STRANGER}", (PROXY,), STRANGER),  # the proxy appends; what is left of it is the client's
    (PROXY, f"{OWNER}, {STRANGER}, 10.0.0.3", ("10.0.0.0/24",), STRANGER),  # a chain of our proxies
    (PROXY, "10.0.0.3, 10.0.0.4", ("10.0.0.0/24",), "10.0.0.3"),  # all ours: the furthest
    (PROXY, "", (PROXY,), PROXY),  # no header from the proxy: the proxy is all we know
    (PROXY, None, (PROXY,), PROXY),
    (f"::ffff:{PROXY}", "[2001:db8::1]:443", (PROXY,), "2001:db8::1"),  # mapped IPv4, bracketed IPv6 with port
    (PROXY, f"{STRANGER}:51234", (PROXY,), STRANGER),
    ("::1", OWNER, ("::1",), OWNER),
    ("testclient", OWNER, ("testclient",), OWNER),  # a proxy named by host name
    (None, OWNER, (PROXY,), UNKNOWN),
])
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected



@pytest.mark.parametrize("address, key", [
    ("203.0.113.9", "203.0.113.9"),  # IPv4: the address itself
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),  # rotating within the /64: the same key
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next /64: another subscriber
    ("::1", "::/64"),
    (UNKNOWN, UNKNOWN),
    ("testclient", "testclient"),
])
def test_client_key_groups_ipv6_by_its_64(address, key):
    assert client_key(address) == key
