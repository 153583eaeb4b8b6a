package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

class RabbitSourceOptionsTest {

  private static final String URI = "amqp://guest:guest@127.0.0.1:5672";

  @Test
  void defaultsComeFromTheDocumentedConstants() {
    RabbitSourceOptions o = RabbitSourceOptions.builder().uri(URI).queue("orders").build();
    assertThat(o.prefetch()).isEqualTo(RabbitSourceOptions.DEFAULT_PREFETCH).isEqualTo(250);
    assertThat(o.consumers()).isEqualTo(1);
    assertThat(o.maxUnacked()).isEqualTo(250);
    assertThat(o.declareQueue()).isFalse();
    assertThat(o.redeliveryDelay()).isSameAs(RedeliveryDelay.hold());
    assertThat(o.confirmTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.toString()).doesNotContain("guest");
  }

  @Test
  void prefetchMustBePositive() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().prefetch(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("`prefetch` must be between 1 and 65535, but was 0");
  }

  @Test
  void consumersMustBePositive() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().consumers(0))
        .hasMessage("`consumers` must be between 1 and 1000, but was 0");
  }

  @Test
  void queueIsRequired() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().uri(URI).build())
        .hasMessageContaining("`queue` is required");
  }

  @Test
  void exactlyOneConnectionIsRequired() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().queue("q").build())
        .hasMessageContaining("neither was");
    CachingConnectionFactory cf = new CachingConnectionFactory();
    try {
      assertThatThrownBy(
              () -> RabbitSourceOptions.builder().queue("q").uri(URI).connectionFactory(cf).build())
          .hasMessageContaining("both were");
    } finally {
      cf.destroy();
    }
  }

  @Test
  void uriMustBeAmqp() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().uri("http://localhost"))
        .hasMessage("`uri` must start with amqp:// or amqps://, but its scheme was http");
  }

  @Test
  void retryQueueNeedsAConnectionFactoryWithConfirms() {
    CachingConnectionFactory cf = new CachingConnectionFactory();
    try {
      assertThatThrownBy(
              () ->
                  RabbitSourceOptions.builder()
                      .queue("q")
                      .connectionFactory(cf)
                      .redeliveryDelay(RedeliveryDelay.retryQueue())
                      .build())
          .hasMessageContaining("publisher confirms");
    } finally {
      cf.destroy();
    }
  }

  @Test
  void retryQueueMustDifferFromTheQueue() {
    assertThatThrownBy(
            () ->
                RabbitSourceOptions.builder()
                    .uri(URI)
                    .queue("q")
                    .redeliveryDelay(RedeliveryDelay.retryQueue("q"))
                    .build())
        .hasMessage("the retry queue must differ from `queue`, but both were 'q'");
  }

  @Test
  void retryQueueIsNamedAfterTheSourceQueue() {
    assertThat(RedeliveryDelay.retryQueue().retryQueueFor("orders"))
        .isEqualTo("orders.onceflow-retry");
    assertThat(RedeliveryDelay.retryQueue("orders.later").retryQueueFor("orders"))
        .isEqualTo("orders.later");
    assertThat(RedeliveryDelay.hold().retryQueueFor("orders")).isNull();
  }

  @Test
  void confirmTimeoutMustBePositive() {
    assertThatThrownBy(() -> RabbitSourceOptions.builder().confirmTimeout(Duration.ZERO))
        .hasMessage("`confirmTimeout` must be positive, but was PT0S");
  }

  @Test
  void mutateKeepsEverything() {
    RabbitSourceOptions o =
        RabbitSourceOptions.builder()
            .uri(URI)
            .queue("q")
            .prefetch(7)
            .consumers(3)
            .declareQueue(true)
            .queueArgument("x-queue-type", "quorum")
            .build();
    RabbitSourceOptions m = o.mutate().build();
    assertThat(m.prefetch()).isEqualTo(7);
    assertThat(m.consumers()).isEqualTo(3);
    assertThat(m.maxUnacked()).isEqualTo(21);
    assertThat(m.queueArguments()).containsEntry("x-queue-type", "quorum");
  }

  @Test
  void publisherAndDeadLetterValidateEagerly() {
    assertThatThrownBy(() -> RabbitPublisherOptions.builder().build())
        .hasMessage("exactly one of `uri` and `connectionFactory` must be set, but neither was");
    assertThatThrownBy(() -> RabbitDeadLetterOptions.builder().uri(URI).build())
        .hasMessageContaining("`queue` is required");
    assertThatThrownBy(
            () ->
                RabbitDeadLetterOptions.builder()
                    .uri(URI)
                    .exchange("dlx", "orders")
                    .declareQueue(true)
                    .build())
        .hasMessageContaining("declare and bind the queue yourself");
    assertThatThrownBy(() -> RabbitPublisherOptions.builder().uri("http://x"))
        .hasMessageContaining("`uri` must start with amqp:// or amqps://");
    assertThatThrownBy(() -> RabbitPublisherOptions.builder().confirmTimeout(Duration.ZERO))
        .hasMessage("`confirmTimeout` must be positive, but was PT0S");
    CachingConnectionFactory cf = new CachingConnectionFactory();
    try {
      assertThatThrownBy(() -> RabbitPublisherOptions.builder().connectionFactory(cf).build())
          .hasMessageContaining("publisher confirms");
      assertThatThrownBy(
              () -> RabbitDeadLetterOptions.builder().connectionFactory(cf).queue("dlq").build())
          .hasMessageContaining("publisher confirms");
    } finally {
      cf.destroy();
    }
  }

  @Test
  void publisherAndDeadLetterOptionsHaveDocumentedDefaultsAndMutateKeepsEverything() {
    RabbitPublisherOptions p = RabbitPublisherOptions.builder().uri(URI).build();
    assertThat(p.exchange()).isEqualTo(RabbitPublisherOptions.DEFAULT_EXCHANGE).isEmpty();
    assertThat(p.confirmTimeout()).isEqualTo(RabbitPublisherOptions.DEFAULT_CONFIRM_TIMEOUT);
    assertThat(p.mutate().exchange("orders-x").build().exchange()).isEqualTo("orders-x");
    assertThat(p.toString()).doesNotContain("guest");

    RabbitDeadLetterOptions d = RabbitDeadLetterOptions.builder().uri(URI).queue("q.dlq").build();
    assertThat(d.declareQueue()).isEqualTo(RabbitDeadLetterOptions.DEFAULT_DECLARE_QUEUE).isFalse();
    assertThat(d.queue()).isEqualTo("q.dlq");
    assertThat(d.exchange()).isEmpty();
    RabbitDeadLetterOptions m = d.mutate().declareQueue(true).queueArgument("x-a", 1).build();
    assertThat(m.declareQueue()).isTrue();
    assertThat(m.queueArguments()).containsEntry("x-a", 1);
    RabbitDeadLetterOptions x = d.mutate().exchange("dlx", "orders").build();
    assertThat(x.queue()).isNull();
    assertThat(x.routingKey()).isEqualTo("orders");

    RabbitSourceOptions s =
        RabbitSourceOptions.builder().uri(URI).queue("q").idHeader("X-Message-Id").build();
    assertThat(s.mutate().build().idHeader()).isEqualTo("X-Message-Id");
    assertThat(RabbitSourceOptions.builder().uri(URI).queue("q").build().idHeader()).isNull();
  }
}
