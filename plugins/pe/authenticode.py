"""Who signed a PE file: the signer certificate named in an Authenticode PKCS#7 blob, read with a tiny DER reader.

Only *names* are extracted (subject and issuer common name / organization, serial number). The signature is
not verified and no certificate chain is built: the report says "signer if present", nothing more. A blob
that cannot be read gives ``{"present": True, "parsed": False, "error": ...}`` instead of an exception.

Structure walked (RFC 2315 / RFC 5652)::

    ContentInfo ::= SEQUENCE { contentType OID (signedData), [0] EXPLICIT SignedData }
    SignedData  ::= SEQUENCE { version, digestAlgorithms SET, contentInfo, [0] IMPLICIT certificates OPTIONAL,
                               [1] crls OPTIONAL, signerInfos SET OF SignerInfo }
    SignerInfo  ::= SEQUENCE { version, issuerAndSerialNumber SEQUENCE { issuer Name, serial INTEGER }, ... }
    Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial, signature, issuer Name,
                               validity, subject Name, ... }, ... }
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

__all__ = ["DerError", "security_blob", "signer_of"]

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
NAME_ATTRIBUTES = {"2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C"}
WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002


class DerError(ValueError):
    """The blob is not the DER structure expected."""


@dataclass(frozen=True)
class Node:
    tag: int
    data: bytes  # the content octets
    constructed: bool

    def children(self) -> list[Node]:
        if not self.constructed:
            raise DerError(f"tag 0x{self.tag:02x} is not constructed")
        return list(_read_all(self.data))


def _read_one(data: bytes, offset: int) -> tuple[Node, int]:
    if offset + 2 > len(data):
        raise DerError("truncated DER header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte DER tags are not supported")
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise DerError("unsupported DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise DerError("DER value runs past the end of the blob")
    return Node(tag, data[offset:end], bool(tag & 0x20)), end


def _read_all(data: bytes) -> list[Node]:
    nodes, offset = [], 0
    while offset < len(data):
        node, offset = _read_one(data, offset)
        nodes.append(node)
    return nodes


def _oid(data: bytes) -> str:
    if not data:
        raise DerError("empty OID")
    parts = [data[0] // 40, data[0] % 40]
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _string(node: Node) -> str:
    if node.tag == 0x1E:  # BMPString
        return node.data.decode("utf-16-be", "replace")
    return node.data.decode("utf-8", "replace")


def _name(node: Node) -> dict[str, str]:
    """An X.501 Name as ``{"CN": ..., "O": ...}`` (the last value wins for repeated attributes)."""
    result: dict[str, str] = {}
    for relative_name in node.children():
        for attribute in relative_name.children():
            parts = attribute.children()
            if len(parts) >= 2 and parts[0].tag == 0x06:
                key = NAME_ATTRIBUTES.get(_oid(parts[0].data))
                if key:
                    result[key] = _string(parts[1])
    return result


def _certificate_names(certificate: Node) -> tuple[str, dict[str, str], dict[str, str]]:
    """``(serial hex, issuer, subject)`` of a certificate."""
    tbs = certificate.children()[0].children()
    if tbs and tbs[0].tag == 0xA0:  # explicit version
        tbs = tbs[1:]
    serial, _signature, issuer, _validity, subject = tbs[:5]
    return serial.data.hex(), _name(issuer), _name(subject)


def signer_of(pkcs7: bytes) -> dict[str, Any]:
    """The signer of a PKCS#7 SignedData blob: subject, issuer and serial of the signer certificate."""
    try:
        content_info = _read_all(pkcs7)[0].children()
        if content_info[0].tag != 0x06 or _oid(content_info[0].data) != OID_SIGNED_DATA:
            raise DerError("not a PKCS#7 SignedData blob")
        signed_data = content_info[1].children()[0].children()
        certificates = [node for node in signed_data if node.tag == 0xA0]
        signer_infos = signed_data[-1].children()
        if not signer_infos:
            raise DerError("no SignerInfo")
        issuer_and_serial = signer_infos[0].children()[1].children()
        wanted_issuer, wanted_serial = _name(issuer_and_serial[0]), issuer_and_serial[1].data.hex()
        for certificate in certificates[0].children() if certificates else []:
            serial, issuer, subject = _certificate_names(certificate)
            if serial == wanted_serial and issuer == wanted_issuer:
                return {
                    "present": True,
                    "parsed": True,
                    "subject": subject,
                    "issuer": issuer,
                    "serial": serial,
                    "verified": False,
                }
        return {
            "present": True,
            "parsed": True,
            "subject": None,
            "issuer": wanted_issuer,
            "serial": wanted_serial,
            "verified": False,
        }
    except (DerError, IndexError, ValueError) as error:
        return {"present": True, "parsed": False, "error": str(error)}


def security_blob(data: bytes, offset: int, size: int) -> bytes | None:
    """The PKCS#7 content of the first WIN_CERTIFICATE at ``offset`` (a file offset), or ``None``."""
    if size < 8 or offset <= 0 or offset + 8 > len(data):
        return None
    length, _revision, certificate_type = struct.unpack_from("<IHH", data, offset)
    if certificate_type != WIN_CERT_TYPE_PKCS_SIGNED_DATA or length < 8:
        return None
    return data[offset + 8 : offset + min(length, size)]
