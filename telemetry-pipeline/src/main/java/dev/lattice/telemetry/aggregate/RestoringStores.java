package dev.lattice.telemetry.aggregate;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * Which stores have a partition being restored from its changelog right now. Streams (with its state updater)
 * lets interactive queries read the store of an active task that is still restoring — say after an
 * exactly-once abort wiped its state — so a scan would silently answer with part of the data; the query layer
 * asks this first (and again after reading) and answers "unavailable" instead.
 *
 * <p>A partition that reports no progress for {@code staleAfter} no longer counts (a restore whose end was
 * never reported, e.g. its thread died, must not make the API unavailable for good).
 *
 * <p>Registered as the Streams global restore listener; thread-safe (called from restore threads, read from
 * query threads).
 */
public final class RestoringStores implements StateRestoreListener {

  /** Default: a restore reports progress every batch, far more often than this. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(2);

  private final Clock clock;
  private final long staleAfterMillis;
  // store → changelog partition → last progress (clock millis)
  private final Map<String, Map<TopicPartition, Long>> restoring = new ConcurrentHashMap<>();
  private final AtomicLong starts = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();

  public RestoringStores() {
    this(Clock.systemUTC(), DEFAULT_STALE_AFTER);
  }

  public RestoringStores(Clock clock, Duration staleAfter) {
    this.clock = clock;
    this.staleAfterMillis = staleAfter.toMillis();
  }

  @Override
  public void onRestoreStart(TopicPartition partition, String storeName, long startingOffset, long endingOffset) {
    starts.incrementAndGet();
    restoring.computeIfAbsent(storeName, s -> new ConcurrentHashMap<>()).put(partition, clock.millis());
  }

  @Override
  public void onBatchRestored(TopicPartition partition, String storeName, long batchEndOffset, long numRestored) {
    Map<TopicPartition, Long> parts = restoring.get(storeName);
    if (parts != null) {
      parts.computeIfPresent(partition, (p, t) -> clock.millis());
    }
  }

  @Override
  public void onRestoreEnd(TopicPartition partition, String storeName, long totalRestored) {
    completed.incrementAndGet();
    done(partition, storeName);
  }

  @Override
  public void onRestoreSuspended(TopicPartition partition, String storeName, long totalRestored) {
    // the task moved away or was closed mid-restore: it is no longer this instance's to answer for
    done(partition, storeName);
  }

  private void done(TopicPartition partition, String storeName) {
    restoring.computeIfPresent(storeName, (s, parts) -> {
      parts.remove(partition);
      return parts.isEmpty() ? null : parts;
    });
  }

  /** Whether some partition of {@code storeName} is being restored (and reported progress lately). */
  public boolean restoring(String storeName) {
    Map<TopicPartition, Long> parts = restoring.get(storeName);
    if (parts == null) {
      return false;
    }
    long oldest = clock.millis() - staleAfterMillis;
    return parts.values().stream().anyMatch(t -> t > oldest);
  }

  /**
   * Restores started so far (any store): a reader that sees the same value before and after reading, and no
   * restore in progress, read no partially restored partition.
   */
  public long generation() {
    return starts.get();
  }

  /** Restores finished so far (any store). */
  public long completed() {
    return completed.get();
  }
}
