package dev.onceflow.redis.internal;

import io.lettuce.core.cluster.SlotHash;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the store's keys live. Message key {@code k} of namespace {@code ns} is one Redis key
 * holding its fence, lease and record:
 *
 * <ul>
 *   <li>{@code <prefix>:<ns>:{<k>}} for most keys;
 *   <li>{@code <prefix>:<ns>:{<tag>}:<k>} when {@code k} carries a hash tag of its own after its
 *       first character ({@code order-7{user-42}} lives in the slot of {@code user-42}, as Redis
 *       Cluster places its own keys), or contains a <code>'&#125;'</code>.
 * </ul>
 *
 * The text between the braces is {@link #slotTag(String)}: Redis Cluster hashes exactly that, so an
 * effect key {@code name:{<slotTag(k)>}} ({@code RedisIdempotencyStore.colocated}) shares the
 * message's slot. A key that is empty or starts with <code>'&#125;'</code> or {@code '~'} is
 * written as {@code ~k}, so the tag is never empty. The encoding is injective, and every store key
 * has a <code>'&#123;'</code> right after {@code <ns>:}, a shape effect keys may not take ({@code
 * <prefix>:<ns>:<effectKey>}), so the two never meet.
 */
public final class KeyLayout {

  /** Namespaces cached with their encoded key prefix at most; beyond, prefixes are built anew. */
  private static final int CACHED_NAMESPACES = 1024;

  private final String prefix;
  private final ConcurrentHashMap<String, byte[]> namespaces = new ConcurrentHashMap<>();

  public KeyLayout(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  public String prefix() {
    return prefix;
  }

  /** {@code key}, or {@code "~" + key} when it is empty or starts with '}' or '~'. */
  public static String tag(String key) {
    if (key.isEmpty() || key.charAt(0) == '}' || key.charAt(0) == '~') {
      return "~" + key;
    }
    return key;
  }

  /**
   * The text Redis Cluster hashes for message key {@code key}: its own hash tag when it has one
   * after its first character (the text between its first '{' and the next '}', not empty),
   * otherwise {@link #tag(String)} up to its first '}'. Never empty, never contains '}'.
   */
  public static String slotTag(String key) {
    int open = key.indexOf('{');
    if (open > 0) {
      int close = key.indexOf('}', open + 1);
      if (close > open + 1) {
        return key.substring(open + 1, close);
      }
    }
    String t = tag(key);
    int close = t.indexOf('}');
    return close < 0 ? t : t.substring(0, close);
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

  private byte[] namespacePrefix(String namespace) {
    byte[] p = namespaces.get(namespace);
    if (p == null) {
      checkNamespace(namespace);
      p = (prefix + ":" + namespace + ":").getBytes(StandardCharsets.UTF_8);
      if (namespaces.size() < CACHED_NAMESPACES) {
        namespaces.putIfAbsent(namespace, p);
      }
    }
    return p;
  }

  /**
   * The Redis key of message key {@code key}.
   *
   * @throws IllegalArgumentException when the namespace cannot be used
   */
  public byte[] messageKey(String namespace, String key) {
    byte[] p = namespacePrefix(namespace);
    String t = tag(key);
    String s = slotTag(key);
    if (s.length() == t.length()) {
      byte[] tb = t.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[p.length + tb.length + 2];
      System.arraycopy(p, 0, out, 0, p.length);
      out[p.length] = '{';
      System.arraycopy(tb, 0, out, p.length + 1, tb.length);
      out[out.length - 1] = '}';
      return out;
    }
    byte[] sb = s.getBytes(StandardCharsets.UTF_8);
    byte[] kb = key.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[p.length + sb.length + 3 + kb.length];
    System.arraycopy(p, 0, out, 0, p.length);
    int at = p.length;
    out[at++] = '{';
    System.arraycopy(sb, 0, out, at, sb.length);
    at += sb.length;
    out[at++] = '}';
    out[at++] = ':';
    System.arraycopy(kb, 0, out, at, kb.length);
    return out;
  }

  /** The Redis key effect key {@code effectKey} of a namespace is written to. */
  public byte[] effectKey(String namespace, String effectKey) {
    byte[] p = namespacePrefix(namespace);
    byte[] e = effectKey.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[p.length + e.length];
    System.arraycopy(p, 0, out, 0, p.length);
    System.arraycopy(e, 0, out, p.length, e.length);
    return out;
  }

  /** The Cluster slot of a Redis key. */
  public static int slot(byte[] redisKey) {
    return SlotHash.getSlot(redisKey);
  }
}
