package dev.onceflow.spring.boot.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A response as the Idempotency-Key filter keeps it in the store: status, the selected headers, and
 * the body when it was small enough to keep. Encoded in a small versioned binary form.
 *
 * @param status the HTTP status code
 * @param headers the selected headers, in order
 * @param body the body; empty when it was not kept
 * @param retained whether the body was kept (false when it was larger than the limit)
 */
public record StoredResponse(
    int status, Map<String, List<String>> headers, byte[] body, boolean retained) {

  private static final int VERSION = 1;

  public StoredResponse {
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(body, "body");
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + body.length);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeShort(status);
      out.writeBoolean(retained);
      out.writeShort(headers.size());
      for (Map.Entry<String, List<String>> h : headers.entrySet()) {
        out.writeUTF(h.getKey());
        out.writeShort(h.getValue().size());
        for (String v : h.getValue()) {
          out.writeUTF(v);
        }
      }
      out.writeInt(body.length);
      out.write(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * @throws IllegalArgumentException when the bytes are not a stored response of this version
   */
  public static StoredResponse decode(byte[] encoded) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown stored response version " + version);
      }
      int status = in.readUnsignedShort();
      boolean retained = in.readBoolean();
      int n = in.readUnsignedShort();
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        String name = in.readUTF();
        int values = in.readUnsignedShort();
        List<String> list = new ArrayList<>(values);
        for (int j = 0; j < values; j++) {
          list.add(in.readUTF());
        }
        headers.put(name, list);
      }
      byte[] body = new byte[in.readInt()];
      in.readFully(body);
      return new StoredResponse(status, headers, body, retained);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a stored response: " + e, e);
    }
  }
}
