package dev.onceflow.sqs;

import dev.onceflow.sqs.internal.SqsCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/**
 * Sends messages to one queue: one at a time ({@code SendMessage}) or in batches of up to 10
 * ({@code SendMessageBatch}), retrying failed lines. Every call is made when the returned {@code
 * Mono} is subscribed, and again on resubscription.
 */
final class SqsSender {

  private static final Logger log = LoggerFactory.getLogger(SqsSender.class);
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(100);

  /** A message ready for the wire. */
  record Outgoing(
      String id,
      String body,
      Map<String, MessageAttributeValue> attributes,
      @Nullable String groupId,
      @Nullable String deduplicationId) {}

  private final SqsAsyncClient client;
  private final String queueUrl;
  private final String queueName;
  private final int attempts;

  SqsSender(SqsAsyncClient client, String queueUrl, int attempts) {
    this.client = client;
    this.queueUrl = queueUrl;
    this.queueName = SqsSource.queueNameOf(queueUrl);
    this.attempts = attempts;
  }

  String queueName() {
    return queueName;
  }

  /** Sends one message; completes with SQS's message id once SQS accepted it. */
  Mono<String> send(Outgoing o) {
    SendMessageRequest request =
        SendMessageRequest.builder()
            .queueUrl(queueUrl)
            .messageBody(o.body())
            .messageAttributes(o.attributes())
            .messageGroupId(o.groupId())
            .messageDeduplicationId(o.deduplicationId())
            .build();
    return Mono.fromFuture(() -> client.sendMessage(request))
        .map(r -> r.messageId())
        .retryWhen(
            reactor.util.retry.Retry.backoff(attempts - 1L, RETRY_BACKOFF)
                .filter(e -> !SqsSource.isSenderFault(SqsSource.unwrap(e)))
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
        .onErrorMap(e -> !(e instanceof SqsOperationException), e -> failure(o, e));
  }

  /**
   * Sends messages in batches of up to 10, {@code concurrency} batches at a time; completes once
   * SQS accepted every one, or errors with the first message that failed for good.
   */
  Mono<Void> sendAll(List<Outgoing> messages, int concurrency) {
    List<List<Outgoing>> batches = new ArrayList<>();
    for (int i = 0; i < messages.size(); i += 10) {
      batches.add(messages.subList(i, Math.min(messages.size(), i + 10)));
    }
    return Flux.fromIterable(batches).flatMap(b -> sendBatch(b, 1), concurrency).then();
  }

  private Mono<Void> sendBatch(List<Outgoing> batch, int attempt) {
    return Mono.defer(
        () -> {
          List<SendMessageBatchRequestEntry> entries = new ArrayList<>(batch.size());
          Map<String, Outgoing> byLine = new HashMap<>();
          for (int i = 0; i < batch.size(); i++) {
            Outgoing o = batch.get(i);
            String line = Integer.toString(i);
            byLine.put(line, o);
            entries.add(
                SendMessageBatchRequestEntry.builder()
                    .id(line)
                    .messageBody(o.body())
                    .messageAttributes(o.attributes())
                    .messageGroupId(o.groupId())
                    .messageDeduplicationId(o.deduplicationId())
                    .build());
          }
          SendMessageBatchRequest request =
              SendMessageBatchRequest.builder().queueUrl(queueUrl).entries(entries).build();
          return Mono.fromFuture(() -> client.sendMessageBatch(request))
              .onErrorResume(
                  e -> {
                    Throwable cause = SqsSource.unwrap(e);
                    String code = SqsSource.errorCode(cause);
                    if (code != null && code.endsWith("BatchRequestTooLong")) {
                      // Too large together: each on its own.
                      return Flux.fromIterable(batch).concatMap(this::send).then(Mono.empty());
                    }
                    if (!SqsSource.isSenderFault(cause) && attempt < attempts) {
                      return Mono.delay(RETRY_BACKOFF.multipliedBy(attempt))
                          .then(sendBatch(batch, attempt + 1))
                          .then(Mono.empty());
                    }
                    return Mono.error(failure(batch.get(0), cause));
                  })
              .flatMap(response -> retryFailedLines(response, byLine, attempt));
        });
  }

  private Mono<Void> retryFailedLines(
      SendMessageBatchResponse response, Map<String, Outgoing> byLine, int attempt) {
    for (SendMessageBatchResultEntry ok : response.successful()) {
      byLine.remove(ok.id());
    }
    List<Outgoing> retry = new ArrayList<>();
    for (BatchResultErrorEntry failed : response.failed()) {
      Outgoing o = byLine.remove(failed.id());
      if (o == null) {
        continue;
      }
      if (Boolean.TRUE.equals(failed.senderFault()) || attempt >= attempts) {
        return Mono.error(
            new SqsOperationException(
                "send",
                queueName,
                o.id(),
                failed.code(),
                Boolean.TRUE.equals(failed.senderFault()),
                String.valueOf(failed.message()),
                null));
      }
      log.warn(
          "SQS send of message {} to '{}' failed (attempt {}/{}, {}): {}; retrying",
          o.id(),
          queueName,
          attempt,
          attempts,
          failed.code(),
          failed.message());
      retry.add(o);
    }
    retry.addAll(byLine.values());
    if (retry.isEmpty()) {
      return Mono.empty();
    }
    return Mono.delay(RETRY_BACKOFF.multipliedBy(attempt)).then(sendBatch(retry, attempt + 1));
  }

  private SqsOperationException failure(Outgoing o, Throwable e) {
    Throwable cause = SqsSource.unwrap(e);
    return new SqsOperationException(
        "send",
        queueName,
        o.id(),
        SqsSource.errorCode(cause),
        SqsSource.isSenderFault(cause),
        SqsSource.describe(cause),
        cause);
  }

  /** The body and attributes for a payload and its headers (with the body encoding marked). */
  static Map.Entry<String, Map<String, MessageAttributeValue>> wire(
      byte[] payload, Map<String, String> headers) {
    SqsCodec.Body body = SqsCodec.toBody(payload);
    Map<String, String> h = new java.util.LinkedHashMap<>(headers);
    h.remove(SqsCodec.BODY_ENCODING);
    if (body.base64()) {
      h.put(SqsCodec.BODY_ENCODING, SqsCodec.BASE64);
    }
    return Map.entry(body.text(), SqsCodec.toAttributes(h));
  }
}
