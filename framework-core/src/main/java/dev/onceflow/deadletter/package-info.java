/** Dead letters: what a failed-for-good message carries, and the sink SPI adapters implement. */
@NullMarked
package dev.onceflow.deadletter;

import org.jspecify.annotations.NullMarked;
