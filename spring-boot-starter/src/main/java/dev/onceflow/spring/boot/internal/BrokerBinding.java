package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.spring.boot.OnceflowProperties;

/**
 * Builds the source and the dead-letter destination of the pipelines of one broker from the
 * properties. One bean per broker whose adapter module is on the classpath.
 */
public interface BrokerBinding {

  /** The broker this binding builds for. */
  OnceflowProperties.Broker broker();

  /**
   * The source of pipeline {@code name}.
   *
   * @throws dev.onceflow.spring.boot.OnceflowConfigurationException when a property is wrong
   */
  MessageSource source(String name, OnceflowProperties.Pipeline pipeline);

  /**
   * The dead-letter destination of pipeline {@code name}: {@code pipeline.getDeadLetter()}, or the
   * broker's default name derived from the destination.
   */
  DeadLetterSink deadLetter(String name, OnceflowProperties.Pipeline pipeline);
}
