package dev.onceflow.sqs.internal;

import dev.onceflow.sqs.SqsOperationException;
import dev.onceflow.sqs.SqsPublishResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
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
public final class SqsSender {

  private static final Logger log = LoggerFactory.getLogger(SqsSender.class);
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(100);

  /** A message ready for the wire; {@code id} is its onceflow message id. */
  public record Outgoing(
      String id,
      String body,
      Map<String, MessageAttributeValue> attributes,
      @Nullable String groupId,
      @Nullable String deduplicationId) {}

  private final SqsAsyncClient client;
  private final String queueUrl;
  private final String queueName;
  private final int attempts;

  public SqsSender(SqsAsyncClient client, String queueUrl, int attempts) {
    this.client = client;
    this.queueUrl = queueUrl;
    this.queueName = SqsMessages.queueNameOf(queueUrl);
    this.attempts = attempts;
  }

  public String queueName() {
    return queueName;
  }

  /** Sends one message; completes once SQS accepted it. */
  public Mono<SqsPublishResult> send(Outgoing o) {
    SendMessageRequest request =
        SendMessageRequest.builder()
            .queueUrl(queueUrl)
            .messageBody(o.body())
            .messageAttributes(o.attributes())
            .messageGroupId(o.groupId())
            .messageDeduplicationId(o.deduplicationId())
            .build();
    return Mono.fromFuture(() -> client.sendMessage(request))
        .map(r -> new SqsPublishResult(queueUrl, o.id(), r.messageId(), r.sequenceNumber()))
        .retryWhen(
            Retry.backoff(attempts - 1L, RETRY_BACKOFF)
                .filter(e -> !SqsErrors.isSenderFault(SqsErrors.unwrap(e)))
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
        .onErrorMap(
            e -> !(e instanceof SqsOperationException),
            e -> SqsErrors.failure(SqsOperationException.SEND, queueName, o.id(), e));
  }

  /**
   * Sends messages in batches of up to 10, {@code concurrency} batches at a time; completes with
   * their results, in order, once SQS accepted every one, or errors with the first message that
   * failed for good.
   */
  public Mono<List<SqsPublishResult>> sendAll(List<Outgoing> messages, int concurrency) {
    List<List<Outgoing>> batches = new ArrayList<>();
    for (int i = 0; i < messages.size(); i += 10) {
      batches.add(messages.subList(i, Math.min(messages.size(), i + 10)));
    }
    return Flux.fromIterable(batches)
        .flatMapSequential(
            batch ->
                sendBatch(batch, 1)
                    .map(
                        done -> {
                          List<SqsPublishResult> inOrder = new ArrayList<>(batch.size());
                          for (Outgoing o : batch) {
                            inOrder.add(done.get(o));
                          }
                          return inOrder;
                        }),
            concurrency)
        .flatMapIterable(results -> results)
        .collectList();
  }

  /** Sends a batch; its result per message, by identity (the same message may be sent twice). */
  private Mono<Map<Outgoing, SqsPublishResult>> sendBatch(List<Outgoing> batch, int attempt) {
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
              .flatMap(response -> retryFailedLines(response, byLine, attempt))
              .onErrorResume(
                  e -> !(e instanceof SqsOperationException),
                  e -> {
                    Throwable cause = SqsErrors.unwrap(e);
                    String code = SqsErrors.errorCode(cause);
                    if (code != null && code.endsWith("BatchRequestTooLong")) {
                      // Too large together: each on its own.
                      return Flux.fromIterable(batch)
                          .concatMap(o -> send(o).map(r -> Map.entry(o, r)))
                          .collect(
                              IdentityHashMap::new,
                              (m, entry) -> m.put(entry.getKey(), entry.getValue()));
                    }
                    if (!SqsErrors.isSenderFault(cause) && attempt < attempts) {
                      return Mono.delay(RETRY_BACKOFF.multipliedBy(attempt))
                          .then(sendBatch(batch, attempt + 1));
                    }
                    return Mono.error(
                        SqsErrors.failure(
                            SqsOperationException.SEND, queueName, batch.get(0).id(), cause));
                  });
        });
  }

  private Mono<Map<Outgoing, SqsPublishResult>> retryFailedLines(
      SendMessageBatchResponse response, Map<String, Outgoing> byLine, int attempt) {
    Map<Outgoing, SqsPublishResult> done = new IdentityHashMap<>();
    for (SendMessageBatchResultEntry ok : response.successful()) {
      Outgoing o = byLine.remove(ok.id());
      if (o != null) {
        done.put(o, new SqsPublishResult(queueUrl, o.id(), ok.messageId(), ok.sequenceNumber()));
      }
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
                SqsOperationException.SEND,
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
    // A line SQS did not mention at all is sent again too.
    retry.addAll(byLine.values());
    if (retry.isEmpty()) {
      return Mono.just(done);
    }
    return Mono.delay(RETRY_BACKOFF.multipliedBy(attempt))
        .then(sendBatch(retry, attempt + 1))
        .map(
            more -> {
              done.putAll(more);
              return done;
            });
  }

  /** The body and attributes for a payload and its headers (with the body encoding marked). */
  public static Map.Entry<String, Map<String, MessageAttributeValue>> wire(
      byte[] payload, Map<String, String> headers) {
    SqsCodec.Body body = SqsCodec.toBody(payload);
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.remove(SqsCodec.BODY_ENCODING);
    if (body.base64()) {
      h.put(SqsCodec.BODY_ENCODING, SqsCodec.BASE64);
    }
    return Map.entry(body.text(), SqsCodec.toAttributes(h));
  }
}
