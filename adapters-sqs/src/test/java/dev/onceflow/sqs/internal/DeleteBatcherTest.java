package dev.onceflow.sqs.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.sqs.SqsOperationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResultEntry;

/**
 * The delete batcher's batching and retry rules, on virtual time. SQS answers come from a fake
 * client because a real broker cannot be made to fail one line of a batch on demand; the happy path
 * runs against ElasticMQ in {@code SqsSourceIT}.
 */
class DeleteBatcherTest {

  /** Answers {@code DeleteMessageBatch} with a function of the request; records every request. */
  private static final class FakeSqs implements SqsAsyncClient {
    final List<DeleteMessageBatchRequest> calls = new CopyOnWriteArrayList<>();
    final Function<DeleteMessageBatchRequest, CompletableFuture<DeleteMessageBatchResponse>> answer;

    FakeSqs(
        Function<DeleteMessageBatchRequest, CompletableFuture<DeleteMessageBatchResponse>> answer) {
      this.answer = answer;
    }

    @Override
    public CompletableFuture<DeleteMessageBatchResponse> deleteMessageBatch(
        DeleteMessageBatchRequest request) {
      calls.add(request);
      return answer.apply(request);
    }

    @Override
    public String serviceName() {
      return "sqs";
    }

    @Override
    public void close() {}
  }

  private static CompletableFuture<DeleteMessageBatchResponse> allOk(DeleteMessageBatchRequest r) {
    return CompletableFuture.completedFuture(
        DeleteMessageBatchResponse.builder()
            .successful(
                r.entries().stream()
                    .map(e -> DeleteMessageBatchResultEntry.builder().id(e.id()).build())
                    .toList())
            .build());
  }

  /** Fails the lines whose receipt handle is in {@code failing}, as SQS reports them. */
  private static Function<DeleteMessageBatchRequest, CompletableFuture<DeleteMessageBatchResponse>>
      failing(List<String> failing, boolean senderFault) {
    return r -> {
      List<DeleteMessageBatchResultEntry> ok = new ArrayList<>();
      List<BatchResultErrorEntry> failed = new ArrayList<>();
      for (DeleteMessageBatchRequestEntry e : r.entries()) {
        if (failing.contains(e.receiptHandle())) {
          failed.add(
              BatchResultErrorEntry.builder()
                  .id(e.id())
                  .senderFault(senderFault)
                  .code(senderFault ? "ReceiptHandleIsInvalid" : "InternalError")
                  .message("nope")
                  .build());
        } else {
          ok.add(DeleteMessageBatchResultEntry.builder().id(e.id()).build());
        }
      }
      return CompletableFuture.completedFuture(
          DeleteMessageBatchResponse.builder().successful(ok).failed(failed).build());
    };
  }

  private static DeleteBatcher batcher(FakeSqs sqs, VirtualTimeScheduler time) {
    return new DeleteBatcher(sqs, "http://h/1/q", "q", 10, Duration.ofMillis(20), 3, time);
  }

  @Test
  void fullBatchesLeaveAtOnceAndTheRestAfterTheInterval() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    FakeSqs sqs = new FakeSqs(DeleteBatcherTest::allOk);
    DeleteBatcher b = batcher(sqs, time);

    StepVerifier.withVirtualTime(
            () -> Flux.range(0, 25).flatMap(i -> b.delete("rh-" + i, "m-" + i)).then(),
            () -> time,
            Long.MAX_VALUE)
        .then(() -> assertThat(sqs.calls).hasSize(2))
        .thenAwait(Duration.ofMillis(20))
        .verifyComplete();

    assertThat(sqs.calls).extracting(c -> c.entries().size()).containsExactly(10, 10, 5);
  }

  @Test
  void aLineThatFailsOnceIsRetriedAndTheAckCompletes() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    List<String> failingNow = new CopyOnWriteArrayList<>(List.of("rh-3"));
    FakeSqs sqs =
        new FakeSqs(
            r -> {
              CompletableFuture<DeleteMessageBatchResponse> answer =
                  failing(List.copyOf(failingNow), false).apply(r);
              failingNow.clear();
              return answer;
            });
    DeleteBatcher b = batcher(sqs, time);

    StepVerifier.withVirtualTime(
            () -> Flux.range(0, 10).flatMap(i -> b.delete("rh-" + i, "m-" + i)).then(),
            () -> time,
            Long.MAX_VALUE)
        .thenAwait(Duration.ofSeconds(1))
        .verifyComplete();

    assertThat(sqs.calls).hasSize(2);
    assertThat(sqs.calls.get(1).entries())
        .singleElement()
        .extracting(DeleteMessageBatchRequestEntry::receiptHandle)
        .isEqualTo("rh-3");
  }

  @Test
  void aLineThatKeepsFailingErrorsAfterTheAttemptsAndOnlyThatAck() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    FakeSqs sqs = new FakeSqs(failing(List.of("rh-bad"), false));
    DeleteBatcher b = batcher(sqs, time);

    StepVerifier.create(b.delete("rh-bad", "m-bad"))
        .then(() -> time.advanceTimeBy(Duration.ofSeconds(5)))
        .expectErrorSatisfies(
            e -> {
              assertThat(e).isInstanceOf(SqsOperationException.class);
              SqsOperationException x = (SqsOperationException) e;
              assertThat(x.errorCode()).isEqualTo("InternalError");
              assertThat(x.messageId()).isEqualTo("m-bad");
              assertThat(x.senderFault()).isFalse();
            })
        .verify(Duration.ofSeconds(5));
    StepVerifier.create(b.delete("rh-good", "m-good"))
        .then(() -> time.advanceTimeBy(Duration.ofMillis(20)))
        .expectComplete()
        .verify(Duration.ofSeconds(5));

    assertThat(sqs.calls.stream().filter(c -> c.entries().get(0).receiptHandle().equals("rh-bad")))
        .hasSize(3);
  }

  @Test
  void aLineSqsBlamesOnTheRequestIsNotRetried() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    FakeSqs sqs = new FakeSqs(failing(List.of("rh-x"), true));
    DeleteBatcher b = batcher(sqs, time);

    StepVerifier.withVirtualTime(() -> b.delete("rh-x", "m-x"), () -> time, Long.MAX_VALUE)
        .thenAwait(Duration.ofSeconds(5))
        .expectErrorMatches(
            e ->
                e instanceof SqsOperationException x
                    && "ReceiptHandleIsInvalid".equals(x.errorCode()))
        .verify();

    assertThat(sqs.calls).hasSize(1);
  }

  @Test
  void aFailedCallIsRetriedForEveryLine() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    List<Boolean> down = new CopyOnWriteArrayList<>(List.of(true));
    FakeSqs sqs =
        new FakeSqs(
            r ->
                down.remove(Boolean.TRUE)
                    ? CompletableFuture.failedFuture(
                        software.amazon.awssdk.core.exception.SdkClientException.create("reset"))
                    : allOk(r));
    DeleteBatcher b = batcher(sqs, time);

    StepVerifier.withVirtualTime(
            () -> Flux.range(0, 4).flatMap(i -> b.delete("rh-" + i, "m-" + i)).then(),
            () -> time,
            Long.MAX_VALUE)
        .thenAwait(Duration.ofSeconds(1))
        .verifyComplete();

    assertThat(sqs.calls).hasSize(2);
    assertThat(sqs.calls.get(1).entries()).hasSize(4);
  }
}
