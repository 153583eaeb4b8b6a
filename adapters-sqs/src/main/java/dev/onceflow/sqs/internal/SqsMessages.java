package dev.onceflow.sqs.internal;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import dev.onceflow.sqs.SqsSourceOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** The mapping from SQS messages to envelopes, and SQS's units. Stateless. */
public final class SqsMessages {

  private SqsMessages() {}

  /** The queue name of a queue URL: its last path segment. */
  public static String queueNameOf(String queueUrl) {
    String u = queueUrl.endsWith("/") ? queueUrl.substring(0, queueUrl.length() - 1) : queueUrl;
    int slash = u.lastIndexOf('/');
    return slash >= 0 ? u.substring(slash + 1) : u;
  }

  /** Whether a queue is FIFO: SQS requires FIFO queue names to end in {@code .fifo}. */
  public static boolean isFifo(String queueUrlOrName) {
    return queueNameOf(queueUrlOrName).endsWith(".fifo");
  }

  /**
   * Maps an SQS message to an envelope; never throws on bad attributes (they are reported in {@link
   * Envelope#malformation()}).
   *
   * @param idHeader the attribute that carries the message id first, or null; see {@link
   *     HeaderConvention#messageId}
   */
  public static Envelope toEnvelope(
      Message m,
      String queueName,
      List<MessageSystemAttributeName> exposedSystemAttributes,
      @Nullable String idHeader) {
    List<String> problems = new ArrayList<>();
    Map<String, String> headers = SqsCodec.toHeaders(m.messageAttributes(), problems);
    boolean base64 = SqsCodec.BASE64.equalsIgnoreCase(headers.remove(SqsCodec.BODY_ENCODING));
    Map<MessageSystemAttributeName, String> system = m.attributes();
    for (MessageSystemAttributeName name : exposedSystemAttributes) {
      String v = system.get(name);
      if (v != null) {
        headers.put("sqs-" + name, v);
      }
    }
    byte[] payload;
    try {
      payload = SqsCodec.fromBody(m.body(), base64);
    } catch (IllegalArgumentException e) {
      problems.add("the body is marked base64 but is not: " + e.getMessage());
      payload = SqsCodec.fromBody(m.body(), false);
    }
    int receiveCount = 0;
    String rc = system.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT);
    if (rc != null) {
      try {
        receiveCount = Math.max(0, Integer.parseInt(rc.trim()));
      } catch (NumberFormatException e) {
        receiveCount = 0;
      }
    }
    Origin origin =
        new Origin(
            BrokerKind.SQS,
            queueName,
            -1,
            -1,
            m.messageId(),
            m.receiptHandle(),
            receiveCount > 1,
            receiveCount);
    Envelope.Builder b = Envelope.builder().payloadUnsafe(payload).origin(origin);
    HeaderConvention.apply(b, headers, idHeader);
    String group = system.get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
    if (headers.get(HeaderConvention.ENTITY_KEY) == null && group != null) {
      b.entityKey(group);
    }
    Envelope e = b.build();
    if (problems.isEmpty()) {
      return e;
    }
    String mine = String.join("; ", problems);
    String theirs = e.malformation();
    return e.toBuilder().malformation(theirs == null ? mine : theirs + "; " + mine).build();
  }

  /** Whole seconds for a duration, rounded up and capped at SQS's 12 hours. */
  public static int visibilitySeconds(Duration d) {
    if (d.compareTo(SqsSourceOptions.MAX_VISIBILITY) >= 0) {
      return (int) SqsSourceOptions.MAX_VISIBILITY.toSeconds();
    }
    long ms = Math.max(0, d.toMillis());
    long s = (ms + 999) / 1000;
    return (int) Math.min(s, SqsSourceOptions.MAX_VISIBILITY.toSeconds());
  }

  /** Whether an attribute name is one SQS accepts (so that it may be asked for in a receive). */
  public static boolean validAttributeName(String name) {
    return SqsCodec.validName(name);
  }
}
