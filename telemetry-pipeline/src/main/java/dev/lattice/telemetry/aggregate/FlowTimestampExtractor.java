package dev.lattice.telemetry.aggregate;

import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowSignals;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time of a flow: when it completed ({@link FlowSignals#completedAtMillis}); the record's own
 * timestamp for anything else. Stateless.
 */
public final class FlowTimestampExtractor implements TimestampExtractor {

  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    if (record.value() instanceof FlowRecord flow && flow.getTime() != null) {
      long completed = FlowSignals.completedAtMillis(flow);
      if (completed >= 0) {
        return completed;
      }
    }
    return record.timestamp() >= 0 ? record.timestamp() : Math.max(0, partitionTime);
  }
}
