/**
 * The broker-neutral message model: {@link dev.onceflow.core.Envelope}, {@link
 * dev.onceflow.core.Delivery} and the {@link dev.onceflow.core.MessageSource} SPI that broker
 * adapters implement.
 */
@NullMarked
package dev.onceflow.core;

import org.jspecify.annotations.NullMarked;
