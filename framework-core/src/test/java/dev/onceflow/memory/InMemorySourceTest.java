package dev.onceflow.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class InMemorySourceTest {

  @Test
  void deliversOnlyOnDemand() {
    InMemorySource s = InMemorySource.create("q");
    for (int i = 0; i < 10; i++) {
      s.publish("m" + i, "p");
    }
    StepVerifier.create(s.receive(), 3).expectNextCount(3).thenCancel().verify();
    assertThat(s.delivered()).isEqualTo(3);
  }

  @Test
  void nackWithDelayRedeliversLaterWithAHigherAttempt() {
    VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    InMemorySource s = InMemorySource.create("q", vts);
    s.publish("m", "p");
    List<Delivery> got = new ArrayList<>();
    Disposable d = s.receive().subscribe(got::add);
    got.get(0).nack(Duration.ofSeconds(5)).block();
    assertThat(got).hasSize(1);
    vts.advanceTimeBy(Duration.ofSeconds(4));
    assertThat(got).hasSize(1);
    vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(got).hasSize(2);
    assertThat(got.get(1).envelope().origin().attempt()).isEqualTo(2);
    assertThat(got.get(1).envelope().origin().redelivered()).isTrue();
    d.dispose();
  }

  @Test
  void unackedDeliveriesComeBackWhenTheConsumerGoesAndLateAcksFail() {
    InMemorySource s = InMemorySource.create("q");
    s.publish("a", "1").publish("b", "2");
    List<Delivery> got = new ArrayList<>();
    Disposable d = s.receive().subscribe(got::add);
    got.get(0).ack().block();
    d.dispose();
    assertThat(s.ready()).isEqualTo(1);
    StepVerifier.create(got.get(1).ack()).expectError(IllegalStateException.class).verify();
    StepVerifier.create(s.completeWhenDrained().receive().take(1))
        .assertNext(x -> assertThat(x.envelope().messageId()).isEqualTo("b"))
        .verifyComplete();
  }

  @Test
  void oneConsumerAtATime() {
    InMemorySource s = InMemorySource.create("q");
    Disposable d = s.receive().subscribe();
    StepVerifier.create(s.receive()).expectError(IllegalStateException.class).verify();
    d.dispose();
  }
}
