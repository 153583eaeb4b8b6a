package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.handler.Handled;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineListener;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.pipeline.ResultCodec;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import dev.onceflow.test.EffectRecorder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * User code throwing at every hook (decoder, key function, fingerprint, handler, result codec,
 * effect builder, dead-letter sink, listener): the hostile message gets its defined outcome and the
 * run goes on; the good messages around it are processed.
 */
class PipelineHostileUserCodeTest {

  private final Scenario s = new Scenario();
  private final EffectRecorder plain = new EffectRecorder();

  /** "bad" is hostile, "good-0..4" around it are not. */
  private void publishBadAmongGood() {
    s.source.publish("good-0", "g0").publish("good-1", "g1").publish("bad", "boom");
    s.source.publish("good-2", "g2").publish("good-3", "g3").publish("good-4", "g4");
    s.source.completeWhenDrained();
  }

  private PipelineBuilder<String, Object> base(Dedup dedup) {
    return Onceflow.consume(s.source)
        .name("orders")
        .scheduler(s.vts)
        .decode(Decoder.utf8())
        .deduplicate(dedup)
        .retry(Retries.exponential(2, Duration.ofMillis(10)))
        .deadLetterTo(s.deadLetters);
  }

  private static Mono<Object> good(dev.onceflow.handler.Message<String> m, EffectRecorder r) {
    r.apply(m.key());
    return Mono.just((Object) ("ok:" + m.payload()));
  }

  /** Runs to the end and checks the hostile message's outcome; the good ones are processed. */
  private DeadLetter runExpectingDeadLetter(Pipeline<?, ?> p, DeadLetterReason reason) {
    s.runFor(p::outcomes, Duration.ofMinutes(1));
    assertThat(p.ledger().processed()).isEqualTo(5);
    assertThat(p.ledger().deadLettered()).isEqualTo(1);
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(s.source.acked()).isEqualTo(6);
    List<DeadLetter> dls = s.deadLetters.deadLetters();
    assertThat(dls).hasSize(1);
    assertThat(dls.get(0).reason()).isEqualTo(reason);
    assertThat(dls.get(0).envelope().messageId()).isEqualTo("bad");
    for (int i = 0; i < 5; i++) {
      assertThat(plain.count("good-" + i)).isEqualTo(1);
    }
    return dls.get(0);
  }

  @Test
  void aDecoderThatThrowsDeadLettersItsMessageAsDecodeFailed() {
    publishBadAmongGood();
    Pipeline<Integer, Object> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(
                e -> {
                  String text = new String(e.payload(), java.nio.charset.StandardCharsets.UTF_8);
                  if (text.equals("boom")) {
                    throw new IllegalArgumentException("not an order: " + text);
                  }
                  return text.length();
                })
            .deduplicate(Dedup.byMessageId(s.store))
            .handle(
                m -> {
                  plain.apply(m.key());
                  return Mono.just((Object) m.payload());
                })
            .deadLetterTo(s.deadLetters)
            .build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.DECODE_FAILED);
    assertThat(dl.exceptionMessage()).contains("not an order");
  }

  @Test
  void aDecoderThatReturnsNullDeadLettersItsMessageAsDecodeFailed() {
    publishBadAmongGood();
    Decoder<String> nullOnBoom =
        e -> {
          String text = new String(e.payload(), java.nio.charset.StandardCharsets.UTF_8);
          return text.equals("boom") ? null : text;
        };
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store)).decode(nullOnBoom).handle(m -> good(m, plain)).build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.DECODE_FAILED);
    assertThat(dl.exceptionMessage()).contains("decoder returned null");
  }

  @Test
  void aKeyFunctionThatThrowsDeadLettersItsMessageAndTheRunGoesOn() {
    publishBadAmongGood();
    Pipeline<String, Object> p =
        base(Dedup.byKey(
                s.store,
                e -> {
                  if ("bad".equals(e.messageId())) {
                    throw new IllegalStateException("no key for this one");
                  }
                  return e.messageId();
                }))
            .handle(m -> good(m, plain))
            .build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.INVALID_KEY);
    assertThat(dl.exceptionClass()).isEqualTo(IllegalStateException.class.getName());
    assertThat(dl.exceptionMessage()).contains("key function failed");
  }

  @Test
  void aKeyOverTheLimitIsDeadLetteredNotStored() {
    publishBadAmongGood();
    String huge = "k".repeat(1_000_000);
    Pipeline<String, Object> p =
        base(Dedup.byKey(s.store, e -> "bad".equals(e.messageId()) ? huge : e.messageId()))
            .handle(m -> good(m, plain))
            .build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.INVALID_KEY);
    assertThat(dl.exceptionMessage()).contains("1000000 bytes").contains("limit of 1024");
    assertThat(s.store.size()).isEqualTo(5);
  }

  @Test
  void aFingerprintFunctionThatThrowsDeadLettersItsMessage() {
    publishBadAmongGood();
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store)
                .fingerprint(
                    e -> {
                      if ("bad".equals(e.messageId())) {
                        throw new IllegalStateException("cannot project");
                      }
                      return e.payload();
                    }))
            .handle(m -> good(m, plain))
            .build();
    runExpectingDeadLetter(p, DeadLetterReason.INVALID_KEY);
  }

  @Test
  void aHandlerThatThrowsInsteadOfReturningAnErrorIsRetriedThenDeadLettered() {
    publishBadAmongGood();
    AtomicInteger badCalls = new AtomicInteger();
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store))
            .handle(
                m -> {
                  if (m.key().equals("bad")) {
                    badCalls.incrementAndGet();
                    throw new IllegalStateException("thrown, not signalled");
                  }
                  return good(m, plain);
                })
            .build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.HANDLER_FAILED);
    assertThat(dl.attempts()).isEqualTo(2);
    assertThat(badCalls).hasValue(2);
  }

  @Test
  void aHandlerThatReturnsANullMonoIsDeadLetteredWithAMessageThatSaysWhatToDo() {
    publishBadAmongGood();
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store))
            .handle(m -> m.key().equals("bad") ? null : good(m, plain))
            .build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.NON_RETRYABLE);
    assertThat(dl.exceptionMessage())
        .contains("returned null instead of a Mono")
        .contains("Mono.empty()");
    assertThat(dl.attempts()).isEqualTo(1);
  }

  @Test
  void anEffectBuilderThatThrowsFailsItsMessageOnly() {
    publishBadAmongGood();
    Pipeline<String, String> p =
        Onceflow.consume(s.source)
            .name("orders")
            .scheduler(s.vts)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(s.store))
            .<String>handleWithEffects(
                m -> {
                  plain.apply(m.key());
                  return Mono.fromCallable(
                      () -> {
                        if (m.key().equals("bad")) {
                          throw new IllegalArgumentException("cannot build the effects");
                        }
                        return Handled.of("ok", Effect.hincrBy("applied", m.key(), 1));
                      });
                })
            .retry(Retries.none())
            .deadLetterTo(s.deadLetters)
            .build();
    runExpectingDeadLetter(p, DeadLetterReason.HANDLER_FAILED);
    assertThat(s.applied()).hasSize(5).doesNotContainKey("bad");
  }

  @Test
  void aResultCodecThatThrowsAfterTheHandlerIsANonRetryableFailureAndARestartDoesNotRunItAgain() {
    publishBadAmongGood();
    ResultCodec<Object> codec =
        new ResultCodec<>() {
          @Override
          public byte[] encode(Object result) {
            if (result.toString().contains("boom")) {
              throw new IllegalStateException("cannot encode " + result);
            }
            return result.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          }

          @Override
          public Object decode(byte[] bytes) {
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
          }
        };
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store)).handle(m -> good(m, plain)).resultCodec(codec).build();
    DeadLetter dl = runExpectingDeadLetter(p, DeadLetterReason.NON_RETRYABLE);
    assertThat(dl.exceptionMessage()).contains("cannot encode");
    // Restarts find nothing to redo: the plain effect of "bad" ran once.
    for (int restart = 0; restart < 3; restart++) {
      s.source.completeWhenDrained();
      s.runFor(p::outcomes, Duration.ofSeconds(5));
    }
    assertThat(plain.count("bad")).isEqualTo(1);
  }

  @Test
  void aDeadLetterSinkThatThrowsNacksAndReleasesThenDeadLettersOnceItAccepts() {
    publishBadAmongGood();
    AtomicInteger refusals = new AtomicInteger();
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store))
            .handle(
                m ->
                    m.key().equals("bad")
                        ? Mono.error(new IllegalStateException("poison"))
                        : good(m, plain))
            .deadLetterTo(
                dl -> {
                  if (refusals.incrementAndGet() <= 2) {
                    throw new IllegalStateException("sink down (thrown)");
                  }
                  if (refusals.get() == 3) {
                    return null;
                  }
                  return s.deadLetters.publish(dl);
                })
            .build();
    runExpectingDeadLetter(p, DeadLetterReason.HANDLER_FAILED);
    assertThat(p.ledger().nacked()).isEqualTo(3);
    assertThat(s.source.nacked()).isEqualTo(3);
  }

  @Test
  void aListenerThatThrowsOnEveryEventChangesNothing() {
    publishBadAmongGood();
    PipelineListener hostile =
        new PipelineListener() {
          @Override
          public void delivered(dev.onceflow.core.Envelope envelope) {
            throw new IllegalStateException("listener");
          }

          @Override
          public void acquired(dev.onceflow.core.Envelope envelope, String key, long fence) {
            throw new IllegalStateException("listener");
          }

          @Override
          public void settled(Outcome<?> outcome) {
            throw new IllegalStateException("listener");
          }
        };
    Pipeline<String, Object> p =
        base(Dedup.byMessageId(s.store))
            .handle(
                m ->
                    m.key().equals("bad")
                        ? Mono.error(new IllegalStateException("poison"))
                        : good(m, plain))
            .listener(hostile)
            .build();
    runExpectingDeadLetter(p, DeadLetterReason.HANDLER_FAILED);
  }
}
