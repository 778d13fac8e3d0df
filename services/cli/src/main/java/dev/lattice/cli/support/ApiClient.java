package dev.lattice.cli.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The small HTTP client every {@code lattice} subcommand talks to the services with (java.net.http,
 * blocking: a CLI runs one request at a time).
 *
 * <p>Transport failures become a {@link CliException} that names the service and URL
 * ({@code error: cannot reach policy at http://127.0.0.1:7080/…: connection refused (is ./lattice up
 * running?)}); {@link Response#requireSuccess()} turns 4xx/5xx answers into kubectl-style
 * {@code Error from server (NotFound): <message>}. Thread-safe; nothing to close.
 */
public final class ApiClient {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<Integer, String> REASONS = Map.ofEntries(
      Map.entry(400, "BadRequest"), Map.entry(401, "Unauthorized"), Map.entry(403, "Forbidden"),
      Map.entry(404, "NotFound"), Map.entry(405, "MethodNotAllowed"), Map.entry(409, "Conflict"),
      Map.entry(410, "Gone"), Map.entry(412, "PreconditionFailed"), Map.entry(415, "UnsupportedMediaType"),
      Map.entry(422, "Invalid"), Map.entry(429, "TooManyRequests"), Map.entry(500, "InternalError"),
      Map.entry(502, "BadGateway"), Map.entry(503, "ServiceUnavailable"), Map.entry(504, "Timeout"));

  /** Where the CLI looks for the admin credential, for hints on 401/403. */
  static final String TOKEN_SOURCES = "$LATTICE_ADMIN_TOKEN, the file $LATTICE_ADMIN_TOKEN_FILE or <data-dir>/admin.token";

  private final HttpClient http;
  private final Duration requestTimeout;
  private final Optional<String> adminToken;

  /** A client whose connect and request timeouts are both {@code timeout}, without a credential. */
  public ApiClient(Duration timeout) {
    this(timeout, Optional.empty());
  }

  /**
   * A client that sends {@code adminToken} as {@code Authorization: Bearer …} on every request (the
   * services require it on writes; docs/operations.md#admin-credential).
   */
  public ApiClient(Duration timeout, Optional<String> adminToken) {
    this.http = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
    this.requestTimeout = timeout;
    this.adminToken = adminToken;
  }

  /** One answer: status, body text and the service/URL it came from. */
  public record Response(String service, URI url, int status, String body) {

    public boolean isSuccess() {
      return status >= 200 && status < 300;
    }

    /** This response if 2xx, else a {@link CliException} in kubectl's words. */
    public Response requireSuccess() {
      if (isSuccess()) return this;
      String hint = switch (status) {
        case 401 -> " (no admin token was sent: the CLI reads it from " + TOKEN_SOURCES + ")";
        case 403 -> " (the admin token sent is not this service's: the CLI reads it from " + TOKEN_SOURCES + ")";
        default -> "";
      };
      throw new CliException("Error from server (" + reason(status) + "): " + serverMessage() + hint);
    }

    /** The body as JSON, or a {@link CliException} if it is not JSON. */
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new CliException("error: " + service + " answered " + url + " with a body that is not JSON: "
            + abbreviate(body));
      }
    }

    /** The server's own explanation: the {@code message}/{@code error}/{@code reason} field of a JSON body, else the body. */
    public String serverMessage() {
      try {
        JsonNode node = JSON.readTree(body);
        for (String field : new String[] {"message", "error", "reason"}) {
          if (node != null && node.hasNonNull(field)) return node.get(field).asText();
        }
      } catch (IOException notJson) {
        // plain-text body: show it as is
      }
      return body == null || body.isBlank() ? "HTTP " + status + " from " + url : abbreviate(body.strip());
    }
  }

  /** The kubectl-style reason for an HTTP status, e.g. 404 → {@code NotFound}. */
  public static String reason(int status) {
    return REASONS.getOrDefault(status, "HTTP" + status);
  }

  public Response get(String service, URI url) {
    return send(service, HttpRequest.newBuilder(url).GET());
  }

  public Response delete(String service, URI url) {
    return send(service, HttpRequest.newBuilder(url).DELETE());
  }

  public Response post(String service, URI url, String contentType, String body) {
    return send(service, HttpRequest.newBuilder(url).header("content-type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
  }

  public Response put(String service, URI url, String contentType, String body) {
    return send(service, HttpRequest.newBuilder(url).header("content-type", contentType)
        .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)));
  }

  private Response send(String service, HttpRequest.Builder request) {
    request.timeout(requestTimeout).header("accept", "application/json");
    adminToken.ifPresent(token -> request.header("authorization", "Bearer " + token));
    HttpRequest built = request.build();
    try {
      HttpResponse<String> response = http.send(built, HttpResponse.BodyHandlers.ofString());
      return new Response(service, built.uri(), response.statusCode(), response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("error: interrupted while calling " + service + " at " + built.uri());
    } catch (IOException e) {
      throw new CliException("error: cannot reach " + service + " at " + built.uri() + ": " + describe(e), ExitCode.ERROR, e);
    }
  }

  private String describe(IOException e) {
    if (e instanceof HttpConnectTimeoutException) return "connect timed out after " + requestTimeout.toMillis() + " ms";
    if (e instanceof HttpTimeoutException) return "no answer within " + requestTimeout.toMillis() + " ms";
    if (e instanceof ConnectException) return "connection refused (is ./lattice up running?)";
    String msg = e.getMessage();
    return msg == null ? e.getClass().getSimpleName().toLowerCase(Locale.ROOT) : msg;
  }

  private static String abbreviate(String text) {
    if (text == null) return "";
    return text.length() <= 300 ? text : text.substring(0, 300) + "…";
  }
}
