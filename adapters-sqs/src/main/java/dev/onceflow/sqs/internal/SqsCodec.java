package dev.onceflow.sqs.internal;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * How onceflow headers and payloads travel in SQS messages.
 *
 * <p>Headers: SQS allows at most 10 message attributes per message. Each header becomes its own
 * String attribute while there is room and its name and value are valid SQS attribute names and
 * values; if a message has more than 10 headers, the first 9 eligible ones (convention headers come
 * first) stay attributes and every other header is packed into the one attribute {@value
 * #PACKED_HEADERS}, form-url-encoded ({@code name=value&name=value}, UTF-8). Receiving reverses it:
 * the packed headers are unpacked, then the plain attributes are laid over them.
 *
 * <p>Payload: the body of an SQS message must be text. A payload that is valid UTF-8 made only of
 * the characters SQS accepts travels as is; any other payload travels base64-encoded with the
 * header {@value #BODY_ENCODING}{@code =base64}.
 */
public final class SqsCodec {

  /** The attribute that carries the headers that did not fit in attributes of their own. */
  public static final String PACKED_HEADERS = "onceflow-headers";

  /** Present, with value {@code base64}, when the body is the base64 form of the payload. */
  public static final String BODY_ENCODING = "onceflow-body-encoding";

  public static final String BASE64 = "base64";

  /** SQS's limit of message attributes per message. */
  public static final int MAX_ATTRIBUTES = 10;

  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,256}");

  private SqsCodec() {}

  /** The SQS message attributes that carry {@code headers}; at most {@value #MAX_ATTRIBUTES}. */
  public static Map<String, MessageAttributeValue> toAttributes(Map<String, String> headers) {
    Map<String, MessageAttributeValue> out = new LinkedHashMap<>();
    List<Map.Entry<String, String>> eligible = new ArrayList<>();
    Map<String, String> packed = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      if (eligible(h.getKey(), h.getValue())) {
        eligible.add(h);
      } else {
        packed.put(h.getKey(), h.getValue());
      }
    }
    int room = packed.isEmpty() && eligible.size() <= MAX_ATTRIBUTES ? MAX_ATTRIBUTES : 9;
    for (int i = 0; i < eligible.size(); i++) {
      Map.Entry<String, String> h = eligible.get(i);
      if (i < room) {
        out.put(h.getKey(), string(h.getValue()));
      } else {
        packed.put(h.getKey(), h.getValue());
      }
    }
    if (!packed.isEmpty()) {
      out.put(PACKED_HEADERS, string(pack(packed)));
    }
    return out;
  }

  /**
   * The headers carried by SQS message attributes: String and Number attributes (Binary ones are
   * skipped), with the packed headers unpacked.
   *
   * @param problems collects what could not be read; never throws on bad input
   */
  public static Map<String, String> toHeaders(
      Map<String, MessageAttributeValue> attributes, List<String> problems) {
    Map<String, String> headers = new LinkedHashMap<>();
    MessageAttributeValue packed = attributes.get(PACKED_HEADERS);
    if (packed != null && packed.stringValue() != null) {
      try {
        headers.putAll(unpack(packed.stringValue()));
      } catch (IllegalArgumentException e) {
        problems.add(PACKED_HEADERS + " is not form-url-encoded: " + e.getMessage());
      }
    }
    attributes.forEach(
        (name, value) -> {
          if (name.equals(PACKED_HEADERS) || value.stringValue() == null) {
            return;
          }
          String type = value.dataType() == null ? "" : value.dataType();
          if (type.startsWith("String") || type.startsWith("Number")) {
            headers.put(name, value.stringValue());
          }
        });
    return headers;
  }

  /** The SQS body for a payload, and whether it had to be base64-encoded. */
  public static Body toBody(byte[] payload) {
    String text = asSqsText(payload);
    return text != null
        ? new Body(text, false)
        : new Body(Base64.getEncoder().encodeToString(payload), true);
  }

  /** The text SQS carries for {@code payload}, or null if it is not valid SQS text. */
  private static @Nullable String asSqsText(byte[] payload) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(payload))
              .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    return validText(text) ? text : null;
  }

  /** The payload of a received body, given whether the headers mark it base64. */
  public static byte[] fromBody(@Nullable String body, boolean base64) {
    String b = body == null ? "" : body;
    return base64 ? Base64.getDecoder().decode(b) : b.getBytes(StandardCharsets.UTF_8);
  }

  /** An SQS body: the text and whether it is base64. */
  public record Body(String text, boolean base64) {}

  /** Whether a header can travel as an attribute of its own. */
  static boolean eligible(String name, String value) {
    return !name.equals(PACKED_HEADERS) && validName(name) && !value.isEmpty() && validText(value);
  }

  /** Whether SQS accepts {@code name} as a message attribute name. */
  static boolean validName(String name) {
    if (!ATTRIBUTE_NAME.matcher(name).matches()) {
      return false;
    }
    String lower = name.toLowerCase(java.util.Locale.ROOT);
    return !(lower.startsWith("aws.")
        || lower.startsWith("amazon.")
        || name.startsWith(".")
        || name.endsWith(".")
        || name.contains(".."));
  }

  /** Whether every character is one SQS accepts in bodies and attribute values. */
  static boolean validText(String s) {
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      boolean ok =
          c == 0x9
              || c == 0xA
              || c == 0xD
              || (c >= 0x20 && c <= 0xD7FF)
              || (c >= 0xE000 && c <= 0xFFFD)
              || (c >= 0x10000 && c <= 0x10FFFF);
      if (!ok) {
        return false;
      }
      i += Character.charCount(c);
    }
    return true;
  }

  static String pack(Map<String, String> headers) {
    StringBuilder sb = new StringBuilder();
    headers.forEach(
        (k, v) -> {
          if (sb.length() > 0) {
            sb.append('&');
          }
          sb.append(URLEncoder.encode(k, StandardCharsets.UTF_8))
              .append('=')
              .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
    return sb.toString();
  }

  static Map<String, String> unpack(String packed) {
    Map<String, String> out = new LinkedHashMap<>();
    if (packed.isEmpty()) {
      return out;
    }
    for (String pair : packed.split("&", -1)) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("no 'name=value' in a pair");
      }
      out.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static MessageAttributeValue string(String value) {
    return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
  }

  /**
   * A value fit for {@code MessageDeduplicationId} and {@code MessageGroupId}: at most 128
   * characters out of alphanumerics and punctuation. A value that does not fit is replaced by the
   * hex SHA-256 of its UTF-8 bytes, so the mapping stays deterministic.
   */
  public static String fifoId(String value) {
    if (!value.isEmpty() && value.length() <= 128 && value.chars().allMatch(SqsCodec::fifoChar)) {
      return value;
    }
    return sha256(value);
  }

  private static boolean fifoChar(int c) {
    return c > 0x20 && c < 0x7F;
  }

  /** Hex SHA-256 of the UTF-8 bytes of {@code value}. */
  public static String sha256(String value) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
