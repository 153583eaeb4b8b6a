/** Internals of the RabbitMQ adapter. Not API: everything here may change without notice. */
@NullMarked
package dev.onceflow.rabbitmq.internal;

import org.jspecify.annotations.NullMarked;
