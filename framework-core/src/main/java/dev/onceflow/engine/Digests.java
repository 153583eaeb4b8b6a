package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/** Payload fingerprints and derived ids. */
final class Digests {
  private Digests() {}

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }

  /** SHA-256 of the payload, first 128 bits in hex. */
  static String fingerprint(Envelope e) {
    MessageDigest md = sha256();
    md.update(e.payloadView());
    return HexFormat.of().formatHex(md.digest(), 0, 16);
  }

  /** SHA-256 of {@code bytes}, first 128 bits in hex. */
  static String fingerprint(byte[] bytes) {
    MessageDigest md = sha256();
    md.update(bytes);
    return HexFormat.of().formatHex(md.digest(), 0, 16);
  }

  static String payloadId(Envelope e) {
    return "sha256:" + fingerprint(e);
  }

  /** An id from the broker coordinates, or null when the broker has no stable ones. */
  static @Nullable String originId(Envelope e) {
    Origin o = e.origin();
    String coordinates;
    if (o.brokerMessageId() != null) {
      coordinates = o.broker() + "|" + o.destination() + "|" + o.brokerMessageId();
    } else if (o.offset() >= 0) {
      coordinates = o.broker() + "|" + o.destination() + "|" + o.partition() + "|" + o.offset();
    } else {
      return null;
    }
    MessageDigest md = sha256();
    md.update(ByteBuffer.wrap(coordinates.getBytes(StandardCharsets.UTF_8)));
    return "origin:" + HexFormat.of().formatHex(md.digest(), 0, 16);
  }
}
