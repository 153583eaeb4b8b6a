package dev.onceflow.redis.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/** The store's Lua scripts: each one is the shared helpers followed by its body. */
public enum Scripts {
  ACQUIRE("acquire.lua"),
  COMPLETE("complete.lua"),
  RELEASE("release.lua"),
  EXTEND("extend.lua"),
  FIND("find.lua");

  private final String source;
  private final String sha;

  Scripts(String file) {
    this.source = read("common.lua") + "\n" + read(file);
    this.sha = sha1(source);
  }

  public String source() {
    return source;
  }

  /** The SHA-1 digest EVALSHA names the script by. */
  public String sha() {
    return sha;
  }

  private static String read(String file) {
    try (InputStream in =
        Objects.requireNonNull(Scripts.class.getResourceAsStream(file), "missing script " + file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is not available", e);
    }
  }
}
