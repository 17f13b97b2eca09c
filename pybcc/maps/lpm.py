"""LPM trie maps: longest-prefix-match keys {u32 prefixlen; u8 data[]}.

Besides the key type's own form, keys may be given as "10.0.0.0/8",
an ipaddress network, or (prefixlen, data) where data is bytes or an
address string. Without BTF, keys decode to (prefixlen, data bytes).
"""
import ctypes
import ipaddress
import struct

from .map import HashMap


def lpm_key_bytes(key, key_size):
    """The raw key for the forms above, or None if ``key`` is none of them."""
    if isinstance(key, str):
        key = ipaddress.ip_network(key, strict=False)
    if isinstance(key, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        prefixlen, data = key.prefixlen, key.network_address.packed
    elif isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], int) \
            and isinstance(key[1], (bytes, bytearray, str)):
        prefixlen, data = key
        if isinstance(data, str):
            data = ipaddress.ip_address(data).packed
    else:
        return None
    data = bytes(data)
    if 4 + len(data) > key_size:
        raise ValueError(f"LPM key data of {len(data)} bytes does not fit a {key_size}-byte key")
    return struct.pack("<I", prefixlen) + data.ljust(key_size - 4, b"\0")


class LpmTrieMap(HashMap):

    def _encode_key(self, key):
        raw = lpm_key_bytes(key, self.key_size)
        if raw is not None:
            return ctypes.create_string_buffer(raw, self.key_size)
        return super()._encode_key(key)

    def _decode_key(self, buf, offset=0):
        if self.as_ctypes or issubclass(self.key_codec.ctype, ctypes.Structure):
            return super()._decode_key(buf, offset)
        raw = bytes(buf)[offset:offset + self.key_size]
        return struct.unpack_from("<I", raw)[0], raw[4:]
