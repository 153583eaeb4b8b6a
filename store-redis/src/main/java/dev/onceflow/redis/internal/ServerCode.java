package dev.onceflow.redis.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The store's server code ({@code onceflow.lua}) in its two forms: a Redis 7 function library,
 * loaded once per server and called with FCALL, and the same code as a script for EVALSHA (Redis
 * 6.2, or a user not allowed to load functions). The library's name carries a digest of the code,
 * so that stores of different versions sharing one Redis each call their own.
 */
public final class ServerCode {

  private static final String SOURCE = read("onceflow.lua");

  /** The library: its name is {@code onceflow_<digest>}. */
  public static final String LIBRARY_NAME = "onceflow_" + sha1(SOURCE).substring(0, 12);

  /** The function every batch calls. */
  public static final String FUNCTION = LIBRARY_NAME + "_ops";

  /** The library's code, for FUNCTION LOAD. */
  public static final String LIBRARY =
      "#!lua name="
          + LIBRARY_NAME
          + "\n"
          + SOURCE.replace("__NXGET__", "true")
          + "\nredis.register_function{function_name='"
          + FUNCTION
          + "', callback=ops, flags={'allow-cross-slot-keys'}}\n";

  /** The script form, for EVALSHA: it avoids commands newer than Redis 6.2. */
  public static final String SCRIPT =
      SOURCE.replace("__NXGET__", "false") + "\nreturn ops(KEYS, ARGV)\n";

  /** The SHA-1 digest EVALSHA names {@link #SCRIPT} by. */
  public static final String SCRIPT_SHA = sha1(SCRIPT);

  private ServerCode() {}

  private static String read(String file) {
    try (InputStream in =
        Objects.requireNonNull(
            ServerCode.class.getResourceAsStream(file), "missing server code " + file)) {
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
