// Raw DEFLATE (RFC 1951) in plain JavaScript, for the compressed flag of
// docs/FORMAT.md ("Compression").
//
// inflate follows Go's compress/flate decoder, the reference's: it reads
// the input bit by bit and never past the end of the final block, so that
// trailing bytes can be refused; it accepts exactly the streams Go accepts
// (complete Huffman codes, or a single code of length one; at most 286
// literal/length and 30 distance codes; no distance before the start of
// the output); and it stops as soon as the output exceeds the bound. It is
// synchronous and needs no platform API, which is why it is used rather than
// DecompressionStream("deflate-raw"): that is asynchronous, does not say
// where the stream ended, and treats trailing data differently from one
// runtime to the next.
//
// deflate is a small LZ77 compressor with the fixed Huffman code (one
// block). Compressors differ and any valid stream opens everywhere: Go's
// BestSpeed output is a little shorter; this one is short and dependency
// free.

/** Why inflate failed: the stream does not decode, or decodes to too much. */
export class InflateError extends Error {
  constructor(readonly tooLarge: boolean, message: string) {
    super(message);
    this.name = "InflateError";
  }
}

const MAX_BITS = 15;
const MAX_LIT = 286; // literal/length codes a stream may use (Go's maxNumLit)
const MAX_DIST = 30; // distance codes (maxNumDist)
const WINDOW = 32768;

// Base lengths and extra bits of length codes 257..285, and of distance codes 0..29.
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
  24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
// The order in which code length code lengths are sent.
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

// A canonical Huffman code: count[len] codes of each length, and the
// symbols in code order (as in zlib's puff).
interface Huffman {
  count: Uint16Array;
  symbol: Uint16Array;
  empty: boolean;
}

// Builds a code from lengths, or returns null for a code Go's decoder
// refuses: over-subscribed, or incomplete unless it is a single code of
// length one. An all-zero code is accepted and fails when used.
function huffman(lengths: ArrayLike<number>): Huffman | null {
  const count = new Uint16Array(MAX_BITS + 1);
  let max = 0;
  for (let i = 0; i < lengths.length; i++) {
    count[lengths[i]]++;
    if (lengths[i] > max) max = lengths[i];
  }
  count[0] = 0;
  const h: Huffman = { count, symbol: new Uint16Array(lengths.length), empty: max === 0 };
  if (max === 0) return h;
  // Go: the code must use all 2^max sequences of the longest length
  // (shorter codes count for the sequences they prefix), except a single
  // code of length one, which zlib also accepts.
  let used = 0;
  for (let len = 1; len <= max; len++) used += count[len] * (1 << (max - len));
  if (used !== 1 << max && !(used === 1 && max === 1)) return null;
  const offs = new Uint16Array(MAX_BITS + 2);
  for (let len = 1; len < MAX_BITS; len++) offs[len + 1] = offs[len] + count[len];
  for (let s = 0; s < lengths.length; s++) if (lengths[s] !== 0) h.symbol[offs[lengths[s]]++] = s;
  return h;
}

const FIXED_LIT = (() => {
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  return huffman(l)!;
})();

class Reader {
  pos = 0; // bytes consumed
  bitbuf = 0;
  bitcnt = 0;
  constructor(readonly data: Uint8Array) {}

  bits(n: number): number {
    let v = this.bitbuf;
    while (this.bitcnt < n) {
      if (this.pos >= this.data.length) throw new InflateError(false, "unexpected end of the DEFLATE stream");
      v |= this.data[this.pos++] << this.bitcnt;
      this.bitcnt += 8;
    }
    this.bitbuf = v >>> n;
    this.bitcnt -= n;
    return v & ((1 << n) - 1);
  }

  // Decodes one symbol, reading one bit at a time: never a bit more than the code.
  decode(h: Huffman): number {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.count[len];
      if (code - count < first) return h.symbol[index + (code - first)];
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    throw new InflateError(false, "invalid Huffman code in the DEFLATE stream");
  }
}

class Output {
  buf: Uint8Array;
  n = 0;
  constructor(readonly max: number, hint: number) {
    this.buf = new Uint8Array(Math.min(Math.max(hint, 256), max + 1));
  }
  room(k: number): void {
    if (this.n + k > this.max) throw new InflateError(true, `decompresses to more than ${this.max} bytes`);
    if (this.n + k > this.buf.length) {
      const grown = new Uint8Array(Math.min(Math.max(this.buf.length * 2, this.n + k), this.max + 1));
      grown.set(this.buf.subarray(0, this.n));
      this.buf.fill(0);
      this.buf = grown;
    }
  }
}

/**
 * Inflates a raw DEFLATE stream that must end exactly at the end of data,
 * producing at most max bytes. Throws InflateError: tooLarge when the
 * output would exceed max (checked first, as Go does, for everything
 * decoded before an error), otherwise for a stream that does not decode,
 * ends before its final block, or is followed by any byte.
 */
export function inflate(data: Uint8Array, max: number): Uint8Array {
  const r = new Reader(data);
  const out = new Output(max, data.length * 4);
  let final = 0;
  do {
    final = r.bits(1);
    const type = r.bits(2);
    if (type === 0) {
      // Stored: the rest of the current byte is dropped.
      r.bitbuf = 0;
      r.bitcnt = 0;
      if (r.pos + 4 > data.length) throw new InflateError(false, "unexpected end of the DEFLATE stream");
      const len = data[r.pos] | (data[r.pos + 1] << 8);
      const nlen = data[r.pos + 2] | (data[r.pos + 3] << 8);
      r.pos += 4;
      if (len !== (~nlen & 0xffff)) throw new InflateError(false, "stored block length does not match its complement");
      const avail = Math.min(len, data.length - r.pos);
      out.room(avail);
      out.buf.set(data.subarray(r.pos, r.pos + avail), out.n);
      out.n += avail;
      r.pos += avail;
      if (avail < len) throw new InflateError(false, "unexpected end of the DEFLATE stream");
    } else if (type === 1) {
      codes(r, out, FIXED_LIT, null);
    } else if (type === 2) {
      const [lit, dist] = dynamic(r);
      codes(r, out, lit, dist);
    } else {
      throw new InflateError(false, "reserved DEFLATE block type");
    }
  } while (!final);
  if (r.pos !== data.length) throw new InflateError(false, "data after the final DEFLATE block");
  const result = out.buf.slice(0, out.n);
  out.buf.fill(0);
  return result;
}

function dynamic(r: Reader): [Huffman, Huffman] {
  const nlit = r.bits(5) + 257;
  if (nlit > MAX_LIT) throw new InflateError(false, "too many literal/length codes");
  const ndist = r.bits(5) + 1;
  if (ndist > MAX_DIST) throw new InflateError(false, "too many distance codes");
  const nclen = r.bits(4) + 4;
  const clens = new Uint8Array(19);
  for (let i = 0; i < nclen; i++) clens[CLEN_ORDER[i]] = r.bits(3);
  const ch = huffman(clens);
  if (ch === null) throw new InflateError(false, "invalid code length code");
  const lengths = new Uint8Array(nlit + ndist);
  for (let i = 0; i < nlit + ndist; ) {
    const sym = decodeSym(r, ch);
    if (sym < 16) {
      lengths[i++] = sym;
      continue;
    }
    let rep: number, b = 0;
    if (sym === 16) {
      if (i === 0) throw new InflateError(false, "repeat of no previous length");
      b = lengths[i - 1];
      rep = 3 + r.bits(2);
    } else if (sym === 17) rep = 3 + r.bits(3);
    else rep = 11 + r.bits(7);
    if (i + rep > nlit + ndist) throw new InflateError(false, "code lengths run past the end");
    while (rep-- > 0) lengths[i++] = b;
  }
  const lit = huffman(lengths.subarray(0, nlit));
  const dist = huffman(lengths.subarray(nlit));
  if (lit === null || dist === null) throw new InflateError(false, "invalid literal/length or distance code");
  return [lit, dist];
}

function decodeSym(r: Reader, h: Huffman): number {
  if (h.empty) throw new InflateError(false, "use of an empty Huffman code");
  return r.decode(h);
}

function codes(r: Reader, out: Output, lit: Huffman, dist: Huffman | null): void {
  for (;;) {
    const sym = decodeSym(r, lit);
    if (sym < 256) {
      out.room(1);
      out.buf[out.n++] = sym;
      continue;
    }
    if (sym === 256) return;
    if (sym >= MAX_LIT) throw new InflateError(false, "invalid length code");
    const len = LEN_BASE[sym - 257] + r.bits(LEN_EXTRA[sym - 257]);
    let d: number;
    if (dist === null) {
      // Fixed code: 5 bits, most significant first.
      const v = r.bits(5);
      d = ((v & 1) << 4) | ((v & 2) << 2) | (v & 4) | ((v & 8) >> 2) | ((v & 16) >> 4);
    } else d = decodeSym(r, dist);
    if (d >= MAX_DIST) throw new InflateError(false, "invalid distance code");
    const distance = DIST_BASE[d] + r.bits(DIST_EXTRA[d]);
    if (distance > Math.min(out.n, WINDOW)) throw new InflateError(false, "distance before the start of the output");
    // Go hands out what it decoded before an error: check the bound per byte.
    for (let k = 0; k < len; k++) {
      out.room(1);
      out.buf[out.n] = out.buf[out.n - distance];
      out.n++;
    }
  }
}

// ---------------------------------------------------------------------------
// Compression: LZ77 with the fixed Huffman code, one final block.

class BitWriter {
  out: number[] = [];
  acc = 0;
  n = 0;
  put(v: number, bits: number): void {
    this.acc |= v << this.n;
    this.n += bits;
    while (this.n >= 8) {
      this.out.push(this.acc & 0xff);
      this.acc >>>= 8;
      this.n -= 8;
    }
  }
  // A Huffman code goes most significant bit first.
  code(c: number, bits: number): void {
    let rev = 0;
    for (let i = 0; i < bits; i++) rev |= ((c >> i) & 1) << (bits - 1 - i);
    this.put(rev, bits);
  }
  bytes(): Uint8Array {
    if (this.n > 0) this.out.push(this.acc & 0xff);
    return Uint8Array.from(this.out);
  }
}

function literal(w: BitWriter, sym: number): void {
  if (sym < 144) w.code(0x30 + sym, 8);
  else if (sym < 256) w.code(0x190 + sym - 144, 9);
  else if (sym < 280) w.code(sym - 256, 7);
  else w.code(0xc0 + sym - 280, 8);
}

function match(w: BitWriter, len: number, distance: number): void {
  let c = 28;
  while (LEN_BASE[c] > len) c--;
  literal(w, 257 + c);
  if (LEN_EXTRA[c] > 0) w.put(len - LEN_BASE[c], LEN_EXTRA[c]);
  let d = 29;
  while (DIST_BASE[d] > distance) d--;
  w.code(d, 5);
  if (DIST_EXTRA[d] > 0) w.put(distance - DIST_BASE[d], DIST_EXTRA[d]);
}

const HASH_BITS = 15;
const MAX_CHAIN = 64;

/** Compresses data as one raw DEFLATE block with the fixed Huffman code. */
export function deflate(data: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.put(1, 1); // final block
  w.put(1, 2); // fixed Huffman
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(data.length);
  const hash = (i: number) => Math.imul((data[i] << 16) | (data[i + 1] << 8) | data[i + 2], 0x9e3779b1) >>> (32 - HASH_BITS);
  const insert = (i: number) => {
    if (i + 2 >= data.length) return;
    const h = hash(i);
    prev[i] = head[h];
    head[h] = i;
  };
  let i = 0;
  while (i < data.length) {
    let bestLen = 0, bestDist = 0;
    if (i + 2 < data.length) {
      let j = head[hash(i)];
      for (let chain = 0; j >= 0 && i - j <= WINDOW && chain < MAX_CHAIN; chain++, j = prev[j]) {
        let l = 0;
        const limit = Math.min(258, data.length - i);
        while (l < limit && data[j + l] === data[i + l]) l++;
        if (l > bestLen) {
          bestLen = l;
          bestDist = i - j;
          if (l === limit) break;
        }
      }
    }
    if (bestLen >= 3) {
      match(w, bestLen, bestDist);
      for (let k = 0; k < bestLen; k++) insert(i + k);
      i += bestLen;
    } else {
      literal(w, data[i]);
      insert(i);
      i++;
    }
  }
  literal(w, 256);
  return w.bytes();
}
