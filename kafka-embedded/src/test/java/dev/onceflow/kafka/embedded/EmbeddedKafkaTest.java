package dev.onceflow.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The broker starts, serves and stops without drowning a program's INFO output. */
class EmbeddedKafkaTest {

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void capture() {
    events.start();
    root.addAppender(events);
  }

  @AfterEach
  void release() {
    root.detachAppender(events);
  }

  private List<ILoggingEvent> infoFrom(String prefix) {
    return events.list.stream()
        .filter(e -> e.getLevel() == Level.INFO)
        .filter(e -> e.getLoggerName().equals(prefix) || e.getLoggerName().startsWith(prefix + "."))
        .toList();
  }

  @Test
  void aBrokerStartsServesAndStopsWithoutLoggingAtInfoOrPrinting() {
    assertThat(root.getLevel()).as("the program runs at INFO").isEqualTo(Level.INFO);
    PrintStream out = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopic("quiet", 2);
      assertThat(kafka.endOffsets("quiet", 2)).hasSize(2);
    } finally {
      System.setOut(out);
    }
    for (String broker : BrokerLogging.BROKER) {
      assertThat(infoFrom(broker)).as("INFO events of %s", broker).isEmpty();
    }
    assertThat(events.list)
        .as("no configuration dump")
        .noneMatch(e -> e.getFormattedMessage().contains("KafkaConfig values"));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .doesNotContain("Formatting metadata directory")
        .doesNotContain("Bootstrap metadata");
    assertThat(((Logger) LoggerFactory.getLogger("kafka")).getLevel())
        .as("restored after the last broker closed")
        .isNull();
    assertThat(
            ((Logger) LoggerFactory.getLogger("org.apache.kafka.common.config.AbstractConfig"))
                .getLevel())
        .isNull();
  }

  @Test
  void aLevelTheProgramConfiguredIsLeftAlone() {
    Logger server = (Logger) LoggerFactory.getLogger("kafka.server");
    server.setLevel(Level.INFO);
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      assertThat(server.getLevel()).isEqualTo(Level.INFO);
    } finally {
      server.setLevel(null);
    }
    assertThat(infoFrom("kafka.server")).as("the program asked for them").isNotEmpty();
    assertThat(infoFrom("org.apache.kafka.raft")).isEmpty();
  }

  @Test
  void log4jCoreIsNotOnTheClasspath() {
    assertThat(
            getClass().getClassLoader().getResource("org/apache/logging/log4j/core/Logger.class"))
        .as("log4j-core, which the broker kit would bring")
        .isNull();
    assertThat(
            getClass()
                .getClassLoader()
                .getResource("org/apache/logging/slf4j/SLF4JLoggerContextFactory.class"))
        .as("log4j-to-slf4j routes the broker's log4j API calls to SLF4J")
        .isNotNull();
  }
}
