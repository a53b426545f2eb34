"""Bit-packed reading and writing (EXI alignment option "bit-packed").

Bits are taken most significant first within each byte, as EXI 1.0 section 7.1.9 says.
Readers never read past the end: every read checks the remaining bits and raises
ExiError naming the bit offset, so a truncated stream cannot hang or over-allocate (the
reader's two bytes of zero padding only spare short reads a bounds check of their own).
Reads take no per-bit steps: up to 9 bits come from two bytes, byte strings at any bit
offset from one int shift. Writers collect bits in one int; a value written in n bits must
be below 2**n (the callers' contract: event codes, and values the datatypes made to fit).
"""

from __future__ import annotations

from v2g.errors import ExiError


class BitReader:
    """Reads from ``data`` (kept with two zero bytes of padding, never counted in ``end``)."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start_bit: int = 0) -> None:
        # The padding lets a read of up to 9 bits take two bytes without a bounds check of
        # its own (even a 0-bit read at the very end): every read checks against ``end`` first.
        self.data = bytes(data) + b"\0\0"
        self.pos = start_bit
        self.end = len(data) * 8

    def remaining(self) -> int:
        return self.end - self.pos

    def read(self, n: int, what: str = "bits") -> int:
        """Read an n-bit unsigned value."""
        pos = self.pos
        if pos + n > self.end:
            raise ExiError("stream ends early", pos, f"{n} bits of {what}")
        self.pos = pos + n
        first = pos >> 3
        if n <= 9:  # one or two bytes: no slice, no int conversion
            data = self.data
            return (((data[first] << 8) | data[first + 1]) >> (16 - (pos & 7) - n)) & ((1 << n) - 1)
        last = (pos + n - 1) >> 3
        chunk = int.from_bytes(self.data[first:last + 1], "big")
        return (chunk >> (((last + 1) << 3) - (pos + n))) & ((1 << n) - 1)

    def read_bytes(self, count: int, what: str = "bytes") -> bytes:
        pos = self.pos
        if pos + 8 * count > self.end:
            raise ExiError("stream ends early", pos, f"{count} bytes of {what}")
        self.pos = pos + 8 * count
        start = pos >> 3
        shift = pos & 7
        if shift == 0:
            return self.data[start:start + count]
        # count + 1 bytes hold the value after ``shift`` leading bits; shifting right by
        # 8 - shift leaves those junk bits in the top byte, which to_bytes(count + 1)[1:] drops.
        chunk = int.from_bytes(self.data[start:start + count + 1], "big") >> (8 - shift)
        return chunk.to_bytes(count + 1, "big")[1:]

    def read_uint(self, what: str = "unsigned integer") -> int:
        """EXI Unsigned Integer: 7-bit groups, least significant first, high bit = more."""
        data = self.data
        pos = start = self.pos
        end = self.end
        down = 8 - (pos & 7)  # each octet spans two bytes, shifted right by the same amount
        result = 0
        shift = 0
        while True:
            if pos + 8 > end:
                raise ExiError("stream ends early", pos, f"8 bits of {what}")
            i = pos >> 3
            byte = (((data[i] << 8) | data[i + 1]) >> down) & 0xFF
            pos += 8
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self.pos = pos
                return result
            shift += 7
            # Bound the size: no value in a V2G message needs more than a few hundred bits,
            # and a stream of 0xFF bytes must not build an unbounded integer.
            if shift > 7 * 160:
                self.pos = pos
                raise ExiError("unsigned integer too long", start, what)


class BitWriter:
    __slots__ = ("acc", "buf", "nacc")

    def __init__(self) -> None:
        self.buf = bytearray()
        # Pending bits: small writes (event codes) collect in one int and reach the buffer a
        # few bytes at a time, not one conversion per write (write flushes whole bytes once
        # 64 bits are pending; the encoder's loop, which keeps them in locals, at 512).
        self.acc = 0
        self.nacc = 0

    def bit_length(self) -> int:
        return len(self.buf) * 8 + self.nacc

    def write(self, value: int, n: int) -> None:
        """Append ``value`` in n bits; 0 <= value < 2**n is the caller's contract (event codes,
        and values the datatypes made to fit), so it is not masked here."""
        acc = (self.acc << n) | value
        nacc = self.nacc + n
        if nacc >= 64:
            rest = nacc & 7
            self.buf += (acc >> rest).to_bytes(nacc >> 3, "big")
            acc &= (1 << rest) - 1
            nacc = rest
        self.acc = acc
        self.nacc = nacc

    def write_bytes(self, data: bytes) -> None:
        """Append whole octets at any bit offset. Pending bits are flushed to whole bytes
        first; at a byte boundary the octets are copied as they are, else the k pending bits
        and the data become one int, converted once each way (from_bytes, to_bytes) with a
        single shift of the data: four passes over a long value (a certificate), not eight."""
        nacc = self.nacc
        if nacc == 0:
            self.buf += data
            return
        if not data:
            return
        k = nacc & 7
        acc = self.acc
        if nacc > 7:
            self.buf += (acc >> k).to_bytes(nacc >> 3, "big")
            acc &= (1 << k) - 1
        if k == 0:
            self.buf += data
            self.acc = self.nacc = 0
            return
        # the k pending bits, then the data: its first 8 * len(data) bits are output now,
        # its last k bits stay pending
        v = int.from_bytes(data, "big")
        n = len(data)
        self.buf += ((acc << (8 * n - k)) | (v >> k)).to_bytes(n, "big")
        self.acc = v & ((1 << k) - 1)
        self.nacc = k

    def write_counted(self, data: bytes, extra: int = 0) -> None:
        """An unsigned integer ``len(data) + extra``, then the bytes of ``data`` (EXI binary
        and string values), in one write. Pending bits are flushed to whole bytes first; the
        k < 8 left become one leading octet of the value's octets, which are converted to an
        int once, shifted once and converted back once (three passes over a certificate)."""
        nacc = self.nacc
        k = nacc & 7
        if k == 0:
            if nacc:
                self.buf += self.acc.to_bytes(nacc >> 3, "big")
                self.acc = self.nacc = 0
            self.buf += uint_octets(len(data) + extra)
            self.buf += data
            return
        acc = self.acc
        if nacc > 7:
            self.buf += (acc >> k).to_bytes(nacc >> 3, "big")
            acc &= (1 << k) - 1
        raw = bytes((acc,)) + uint_octets(len(data) + extra) + data
        # raw holds 8 - k zero bits, the k pending bits, then the value: shifted right by k,
        # all but the value's last k bits are whole bytes
        v = int.from_bytes(raw, "big")
        self.buf += (v >> k).to_bytes(len(raw) - 1, "big")
        self.acc = v & ((1 << k) - 1)
        self.nacc = k

    def write_uint(self, value: int) -> None:
        if value < 0:
            raise ValueError("negative unsigned integer")
        while True:
            low = value & 0x7F
            value >>= 7
            if value:
                self.write(low | 0x80, 8)
            else:
                self.write(low, 8)
                return

    def getvalue(self) -> bytes:
        """The stream padded with zero bits to a whole byte."""
        if self.nacc:
            pad = -self.nacc & 7
            return bytes(self.buf) + (self.acc << pad).to_bytes((self.nacc + pad) >> 3, "big")
        return bytes(self.buf)


def uint_octets(value: int) -> bytes:
    """An EXI Unsigned Integer as octets: 7-bit groups, least significant first, high bit set
    on every octet but the last."""
    if value < 0x80:
        return bytes((value,))
    if value < 0x4000:  # two octets: the lengths of certificates and keys
        return bytes(((value & 0x7F) | 0x80, value >> 7))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def coding_length(n: int) -> int:
    """Bits needed to tell n distinct values apart (0 for n <= 1)."""
    return (n - 1).bit_length() if n > 1 else 0
