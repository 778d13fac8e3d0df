package dev.lattice.telemetry.aggregate;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;

/** Unsigned LEB128 varints for the aggregate store format (non-negative values only). Stateless. */
final class Varints {

  private Varints() {}

  static void writeLong(ByteBuffer out, long value) {
    if (value < 0) {
      throw new IllegalArgumentException("varint: " + value + " (expected: >= 0)");
    }
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.put((byte) v);
  }

  static long readLong(ByteBuffer in) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!in.hasRemaining()) {
        throw new BufferUnderflowException();
      }
      byte b = in.get();
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes");
  }
}
