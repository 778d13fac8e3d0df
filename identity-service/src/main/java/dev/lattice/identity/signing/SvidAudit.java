package dev.lattice.identity.signing;

import dev.lattice.events.SvidIssued;
import dev.lattice.events.SvidKind;
import dev.lattice.identity.ca.IssuedX509Svid;
import dev.lattice.identity.jwt.JwtSvidIssuer;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.topic.Topic;
import io.spiffe.spiffeid.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code SvidIssued} audit events to {@code lattice.identity.audit.v1}, keyed by SPIFFE ID: serial,
 * validity, entry and node — never a key, a certificate or a token (a JWT is identified by the first 16
 * bytes of its SHA-256). Publishing never delays the caller; a failed send is logged. Thread-safe.
 */
public final class SvidAudit {

  private static final Logger log = LoggerFactory.getLogger(SvidAudit.class);

  private final EventPublisher publisher;
  private final Topic<String, SvidIssued> topic;
  private final java.time.Clock clock;

  public SvidAudit(EventPublisher publisher, Topic<String, SvidIssued> topic, java.time.Clock clock) {
    this.publisher = publisher;
    this.topic = topic;
    this.clock = clock;
  }

  public void x509(IssuedX509Svid svid, String entryId, SpiffeId node) {
    publish(SvidIssued.newBuilder()
        .setSpiffeId(svid.spiffeId().toString())
        .setEntryId(entryId)
        .setKind(SvidKind.X509)
        .setSerial(svid.serialHex())
        .setNotBefore(svid.leaf().getNotBefore().toInstant())
        .setNotAfter(svid.notAfter())
        .setIssuedAt(clock.instant())
        .setNode(node == null ? null : node.toString())
        .setAudiences(List.of())
        .build());
  }

  public void jwt(JwtSvidIssuer.MintedJwtSvid jwt, Instant issuedAt, String entryId, SpiffeId node) {
    publish(SvidIssued.newBuilder()
        .setSpiffeId(jwt.spiffeId().toString())
        .setEntryId(entryId)
        .setKind(SvidKind.JWT)
        .setSerial(tokenDigest(jwt.token()))
        .setNotBefore(issuedAt)
        .setNotAfter(jwt.expiresAt())
        .setIssuedAt(issuedAt)
        .setNode(node == null ? null : node.toString())
        .setAudiences(jwt.audience())
        .build());
  }

  private void publish(SvidIssued event) {
    publisher.publish(topic, event.getSpiffeId(), event)
        .onFailure(e -> log.warn("audit event for {} (serial {}) not written: {}", event.getSpiffeId(),
            event.getSerial(), e.toString()));
  }

  private static String tokenDigest(String token) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
      return "sha256:" + HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
