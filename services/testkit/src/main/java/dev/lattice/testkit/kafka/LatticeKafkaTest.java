package dev.lattice.testkit.kafka;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that talks to a real Kafka broker: shorthand for
 * {@code @ExtendWith(KafkaExtension.class)}. Declare a {@link KafkaCluster} parameter on a test method,
 * a constructor or a {@code @BeforeAll}/{@code @BeforeEach} method to receive the JVM-wide cluster.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(KafkaExtension.class)
public @interface LatticeKafkaTest {}
