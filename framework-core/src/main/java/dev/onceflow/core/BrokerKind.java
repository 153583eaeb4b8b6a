package dev.onceflow.core;

/** The kind of broker a delivery came from. */
public enum BrokerKind {
  KAFKA,
  RABBITMQ,
  SQS,
  /** The in-memory source of the core module and the test kit. */
  IN_MEMORY,
  /**
   * Not received from any broker: the origin of a message built to be published ({@link
   * Origin#notReceived()}).
   */
  NONE
}
