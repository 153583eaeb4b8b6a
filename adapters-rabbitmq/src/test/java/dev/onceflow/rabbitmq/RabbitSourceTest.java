package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.AmqpConnectException;
import reactor.test.StepVerifier;

/** What the source does without a broker. */
class RabbitSourceTest {

  @Test
  void unreachableBrokerFailsTheSubscription() {
    RabbitSource source = RabbitSource.create("amqp://guest:guest@127.0.0.1:1", "orders");
    StepVerifier.create(source.receive())
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(RabbitOperationException.class)
                    .hasMessageContaining("'orders'")
                    .hasCauseInstanceOf(AmqpConnectException.class))
        .verify(Duration.ofSeconds(20));
    assertThat(source.inFlight()).isZero();
  }

  @Test
  void nameIsBrokerAndQueue() {
    assertThat(RabbitSource.create("amqp://127.0.0.1", "orders").name())
        .isEqualTo("rabbitmq:orders");
  }

  @Test
  void toStringNeverShowsCredentials() {
    assertThat(RabbitSource.create("amqp://user:secret@127.0.0.1", "orders").toString())
        .doesNotContain("secret");
  }
}
