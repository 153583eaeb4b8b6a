package dev.onceflow.redis.internal;

import io.lettuce.core.cluster.SlotHash;
import java.util.Objects;

/**
 * Where the store's keys live. Per message key {@code k} of namespace {@code ns}:
 *
 * <ul>
 *   <li>{@code <prefix>:<ns>:{<tag(k)>}:l} — the lease, expiring with PXAT;
 *   <li>{@code <prefix>:<ns>:{<tag(k)>}:f} — the fence, kept for the retention;
 *   <li>{@code <prefix>:<ns>:{<tag(k)>}:r} — the record, expiring after its retention.
 * </ul>
 *
 * {@code tag(k)} is {@code k} itself, or {@code "~" + k} when {@code k} is empty or starts with
 * {@code '}'} or {@code '~'}; the encoding is injective and the hash tag is never empty, so both
 * keys of one message always share a Cluster slot. Effect keys map to {@code
 * <prefix>:<ns>:<effectKey>}.
 */
public final class KeyLayout {

  private final String prefix;

  public KeyLayout(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  public String prefix() {
    return prefix;
  }

  /** The text a message key takes between the braces of its hash tag. */
  public static String tag(String key) {
    if (key.isEmpty() || key.charAt(0) == '}' || key.charAt(0) == '~') {
      return "~" + key;
    }
    return key;
  }

  /**
   * Checks a namespace: braces would move the hash tag, so they are refused.
   *
   * @throws IllegalArgumentException when the namespace cannot be used
   */
  public static void checkNamespace(String namespace) {
    if (namespace.isEmpty()) {
      throw new IllegalArgumentException("namespace must not be empty");
    }
    if (namespace.indexOf('{') >= 0 || namespace.indexOf('}') >= 0) {
      throw new IllegalArgumentException(
          "namespace must not contain '{' or '}' (they would move the Cluster hash tag), but was '"
              + namespace
              + "'");
    }
  }

  private String base(String namespace, String key) {
    return prefix + ":" + namespace + ":{" + tag(key) + "}:";
  }

  public String fenceKey(String namespace, String key) {
    return base(namespace, key) + "f";
  }

  public String recordKey(String namespace, String key) {
    return base(namespace, key) + "r";
  }

  public String leaseKey(String namespace, String key) {
    return base(namespace, key) + "l";
  }

  public String effectKey(String namespace, String effectKey) {
    return prefix + ":" + namespace + ":" + effectKey;
  }

  /** The Cluster slot of a message key. */
  public int slot(String namespace, String key) {
    return SlotHash.getSlot(leaseKey(namespace, key));
  }
}
