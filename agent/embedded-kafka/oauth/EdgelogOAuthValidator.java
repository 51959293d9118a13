// Broker-side SASL/OAUTHBEARER validation for the embedded test broker, so a
// wrong token is refused by a real Kafka broker rather than by a fake client.
// Compiled at test time with the JDK's javac against kafka-clients
// (agent/embedded-kafka/oauth-validator.ts). Mode from the JAAS line:
//
//   mode="msk-iam": the token is an Amazon MSK IAM token (base64url of a
//     SigV4-presigned https://kafka.<region>.amazonaws.com/?Action=... URL).
//     Accepted only if Action is kafka-cluster:Connect, the credential scope
//     is <day>/<region>/kafka-cluster/aws4_request for accessKeyId, the
//     signature verifies with secretAccessKey and X-Amz-Date + X-Amz-Expires
//     is in the future. MSK itself checks the signature against IAM; here the
//     secret the fake IMDS hands out stands in for IAM.
//
//   mode="gcp": the token is Google Managed Kafka's wrapper (header alg
//     GOOG_OAUTH2_TOKEN, claims sub/exp/iat/scope, the access token in the
//     signature position). The access token inside (an RS256 JWT from the
//     test's fake metadata server) is validated by Kafka's own
//     OAuthBearerValidatorCallbackHandler against the test's JWKS endpoint,
//     and its subject must equal the wrapper's sub.

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler;

public class EdgelogOAuthValidator implements AuthenticateCallbackHandler {
  private String mode;
  private String accessKeyId;
  private String secretAccessKey;
  private String region;
  private OAuthBearerValidatorCallbackHandler jwt;

  @Override
  public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> jaas) {
    Map<String, ?> o = jaas.get(0).getOptions();
    mode = String.valueOf(o.get("mode"));
    if ("msk-iam".equals(mode)) {
      accessKeyId = String.valueOf(o.get("accessKeyId"));
      secretAccessKey = String.valueOf(o.get("secretAccessKey"));
      region = String.valueOf(o.get("region"));
    } else if ("gcp".equals(mode)) {
      jwt = new OAuthBearerValidatorCallbackHandler();
      jwt.configure(configs, mechanism, jaas);
    } else {
      throw new IllegalArgumentException("EdgelogOAuthValidator: mode must be msk-iam or gcp, got " + mode);
    }
  }

  @Override
  public void close() {
    if (jwt != null) jwt.close();
  }

  @Override
  public void handle(Callback[] callbacks) throws UnsupportedCallbackException, java.io.IOException {
    for (Callback c : callbacks) {
      if (c instanceof OAuthBearerValidatorCallback v) {
        if ("msk-iam".equals(mode)) validateMsk(v);
        else validateGcp(v);
      } else if (c instanceof OAuthBearerExtensionsValidatorCallback e) {
        e.inputExtensions().map().forEach((k, val) -> e.valid(k));
      } else {
        throw new UnsupportedCallbackException(c);
      }
    }
  }

  // --- MSK IAM -------------------------------------------------------------

  private void validateMsk(OAuthBearerValidatorCallback cb) {
    try {
      String url = new String(Base64.getUrlDecoder().decode(cb.tokenValue()), StandardCharsets.UTF_8);
      if (!url.startsWith("https://")) { cb.error("invalid_token", null, null); return; }
      int q = url.indexOf("/?");
      String host = url.substring("https://".length(), q);
      Map<String, String> params = new TreeMap<>();
      for (String kv : url.substring(q + 2).split("&")) {
        int eq = kv.indexOf('=');
        params.put(decode(kv.substring(0, eq)), decode(kv.substring(eq + 1)));
      }
      if (!host.equals("kafka." + region + ".amazonaws.com")) { cb.error("invalid_token", null, null); return; }
      if (!"kafka-cluster:Connect".equals(params.get("Action"))) { cb.error("invalid_token", null, null); return; }
      if (!"AWS4-HMAC-SHA256".equals(params.get("X-Amz-Algorithm"))) { cb.error("invalid_token", null, null); return; }
      String amzDate = params.get("X-Amz-Date");
      String day = amzDate.substring(0, 8);
      String scope = day + "/" + region + "/kafka-cluster/aws4_request";
      if (!(accessKeyId + "/" + scope).equals(params.get("X-Amz-Credential"))) { cb.error("invalid_token", null, null); return; }
      long start = LocalDateTime.parse(amzDate, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")).toInstant(ZoneOffset.UTC).toEpochMilli();
      long expiry = start + Long.parseLong(params.get("X-Amz-Expires")) * 1000L;
      long now = System.currentTimeMillis();
      if (expiry <= now || start > now + 300_000L) { cb.error("invalid_token", null, null); return; }
      String signature = params.remove("X-Amz-Signature");
      params.remove("User-Agent"); // added after signing, as AWS's MSK signers do
      StringBuilder query = new StringBuilder();
      for (Map.Entry<String, String> p : params.entrySet()) {
        if (query.length() > 0) query.append('&');
        query.append(encode(p.getKey())).append('=').append(encode(p.getValue()));
      }
      String canonical = String.join("\n", "GET", "/", query, "host:" + host, "", "host", hex(sha256("")));
      String toSign = String.join("\n", "AWS4-HMAC-SHA256", amzDate, scope, hex(sha256(canonical)));
      byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), day);
      key = hmac(key, region);
      key = hmac(key, "kafka-cluster");
      key = hmac(key, "aws4_request");
      String expected = hex(hmac(key, toSign));
      if (signature == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), signature.getBytes(StandardCharsets.UTF_8))) {
        cb.error("invalid_token", null, null);
        return;
      }
      cb.token(new Token(cb.tokenValue(), accessKeyId, start, expiry));
    } catch (RuntimeException | java.security.GeneralSecurityException e) {
      cb.error("invalid_token", null, null);
    }
  }

  private static String decode(String s) {
    return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** RFC 3986 percent-encoding as SigV4 canonicalizes query strings. */
  private static String encode(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
      int c = x & 0xff;
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') b.append((char) c);
      else b.append('%').append(String.format("%02X", c));
    }
    return b.toString();
  }

  private static byte[] sha256(String s) throws java.security.GeneralSecurityException {
    return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(byte[] key, String s) throws java.security.GeneralSecurityException {
    Mac m = Mac.getInstance("HmacSHA256");
    m.init(new SecretKeySpec(key, "HmacSHA256"));
    return m.doFinal(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format("%02x", x & 0xff));
    return s.toString();
  }

  // --- GCP Managed Kafka wrapper -------------------------------------------

  private static final Pattern ALG = Pattern.compile("\"alg\"\\s*:\\s*\"([^\"]*)\"");
  private static final Pattern SUB = Pattern.compile("\"sub\"\\s*:\\s*\"([^\"]*)\"");

  private void validateGcp(OAuthBearerValidatorCallback cb) throws UnsupportedCallbackException, java.io.IOException {
    String[] parts = cb.tokenValue().split("\\.");
    if (parts.length != 3) { cb.error("invalid_token", null, null); return; }
    String header;
    String claims;
    String access;
    try {
      header = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
      claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
      access = new String(Base64.getUrlDecoder().decode(parts[2]), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      cb.error("invalid_token", null, null);
      return;
    }
    Matcher alg = ALG.matcher(header);
    Matcher sub = SUB.matcher(claims);
    if (!alg.find() || !"GOOG_OAUTH2_TOKEN".equals(alg.group(1)) || !sub.find()) { cb.error("invalid_token", null, null); return; }
    OAuthBearerValidatorCallback inner = new OAuthBearerValidatorCallback(access);
    jwt.handle(new Callback[] {inner});
    if (inner.token() == null) { cb.error(inner.errorStatus() == null ? "invalid_token" : inner.errorStatus(), inner.errorScope(), inner.errorOpenIDConfiguration()); return; }
    if (!sub.group(1).equals(inner.token().principalName())) { cb.error("invalid_token", null, null); return; }
    OAuthBearerToken t = inner.token();
    cb.token(new Token(cb.tokenValue(), t.principalName(), t.startTimeMs() == null ? System.currentTimeMillis() : t.startTimeMs(), t.lifetimeMs()));
  }

  private record Token(String value, String principalName, long start, long lifetimeMs) implements OAuthBearerToken {
    @Override public Set<String> scope() { return Set.of(); }
    @Override public Long startTimeMs() { return start; }
  }
}
