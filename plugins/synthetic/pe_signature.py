"""A minimal Authenticode-shaped PKCS#7 blob (names only; no real signature), for the ``certificate`` argument of
:func:`mk2ds.plugins.synthetic.pe_builder.build_pe` (re-exported there as ``signed_data_blob``).

Just enough DER for a PE parser to find a SignedData with one certificate (subject, issuer, serial number)
and one SignerInfo naming it. Nothing here signs anything.
"""

from __future__ import annotations

__all__ = ["signed_data_blob"]


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def _der_oid(dotted: str) -> bytes:
    numbers = [int(part) for part in dotted.split(".")]
    body = bytearray([numbers[0] * 40 + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_name(common_name: str, organization: str | None = None) -> bytes:
    attributes = [("2.5.4.3", common_name)] + ([("2.5.4.10", organization)] if organization else [])
    sets = b"".join(
        _der(0x31, _der(0x30, _der_oid(oid) + _der(0x0C, value.encode("utf-8")))) for oid, value in attributes
    )
    return _der(0x30, sets)


def signed_data_blob(subject: str, issuer: str, serial: int = 0x1234, organization: str | None = None) -> bytes:
    """A PKCS#7 SignedData with one certificate and one SignerInfo naming it. Not a valid signature."""
    serial_der = _der(0x02, serial.to_bytes(max(1, (serial.bit_length() + 8) // 8), "big"))
    algorithm = _der(0x30, _der_oid("1.2.840.113549.1.1.11") + b"\x05\x00")
    validity = _der(0x30, _der(0x17, b"180101000000Z") + _der(0x17, b"300101000000Z"))
    tbs = _der(
        0x30,
        _der(0xA0, _der(0x02, b"\x02")) + serial_der + algorithm + _der_name(issuer) + validity
        + _der_name(subject, organization) + _der(0x30, algorithm + _der(0x03, b"\x00")),
    )  # fmt: skip
    certificate = _der(0x30, tbs + algorithm + _der(0x03, b"\x00"))
    digest = _der(0x30, _der_oid("2.16.840.1.101.3.4.2.1") + b"\x05\x00")
    signer_info = _der(
        0x30,
        _der(0x02, b"\x01") + _der(0x30, _der_name(issuer) + serial_der) + digest + algorithm + _der(0x04, b""),
    )
    signed_data = _der(
        0x30,
        _der(0x02, b"\x01") + _der(0x31, digest) + _der(0x30, _der_oid("1.3.6.1.4.1.311.2.1.4"))
        + _der(0xA0, certificate) + _der(0x31, signer_info),
    )  # fmt: skip
    return _der(0x30, _der_oid("1.2.840.113549.1.7.2") + _der(0xA0, signed_data))
