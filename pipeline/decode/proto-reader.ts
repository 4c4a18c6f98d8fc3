/**
 * A minimal protobuf wire-format reader: just what KPL's `AggregatedRecord` needs. Every read is
 * bounds-checked and throws `ProtoTruncatedError`, so a corrupt record can never read past its end.
 */

export const WireType = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

export class ProtoTruncatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoTruncatedError';
  }
}

export class ProtoReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Unsigned varint up to 2^53 - 1; larger values (never valid as table indexes) throw. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoTruncatedError(`varint runs past the end at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new ProtoTruncatedError('varint exceeds 2^53');
        return result;
      }
      scale *= 128;
    }
    throw new ProtoTruncatedError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A field tag: `[fieldNumber, wireType]` packed as `fieldNumber * 8 + wireType`. */
  tag(): number {
    return this.varint();
  }

  /** A length-delimited field, as a zero-copy view. */
  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.end - this.pos) {
      throw new ProtoTruncatedError(
        `field of ${len} bytes at byte ${this.pos} runs past the end (${this.end})`,
      );
    }
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return view;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.advance(8);
        return;
      case WireType.bytes:
        this.bytes();
        return;
      case WireType.fixed32:
        this.advance(4);
        return;
      default:
        // Groups are deprecated and absent from KPL's schema; refusing them beats guessing.
        throw new ProtoTruncatedError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos)
      throw new ProtoTruncatedError(`fixed field runs past the end at byte ${this.pos}`);
    this.pos += n;
  }
}
