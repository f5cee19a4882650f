package dev.copresence.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** Signs RS256 JWTs with the test-only keys of {@code src/test/resources/jwt}. */
public final class TestTokens {
    public static final String ISSUER = "https://copresence.test";

    private TestTokens() {
    }

    /** A token for {@code sub}, valid for {@code seconds} (negative: already expired). */
    public static String token(String sub, String name, String docsJson, long seconds) {
        return sign("jwt/private.pem", ISSUER, sub, name, docsJson, seconds);
    }

    public static String sign(String keyResource, String issuer, String sub, String name, String docsJson, long seconds) {
        return sign(keyResource, issuer, sub, name, docsJson, -5, seconds, "");
    }

    /** A token for {@code sub} with more claims, {@code extraClaims} written into its JSON as given (",\"watch\":[…]"). */
    public static String withClaims(String sub, String extraClaims, long seconds) {
        return sign("jwt/private.pem", ISSUER, sub, null, null, -5, seconds, extraClaims);
    }

    /** A token for {@code sub} issued {@code issuedIn} seconds from now (negative: in the past), valid for {@code seconds}. */
    public static String issuedIn(String sub, long issuedIn, long seconds) {
        return sign("jwt/private.pem", ISSUER, sub, null, null, issuedIn, seconds, "");
    }

    private static String sign(String keyResource, String issuer, String sub, String name, String docsJson, long issuedIn,
            long seconds, String extraClaims) {
        long now = System.currentTimeMillis() / 1000;
        String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
        StringBuilder claims = new StringBuilder("{\"iss\":\"").append(issuer).append("\",\"sub\":\"").append(sub)
                .append("\",\"iat\":").append(now + issuedIn).append(",\"exp\":").append(now + seconds);
        if (name != null) {
            claims.append(",\"name\":\"").append(name).append('"');
        }
        if (docsJson != null) {
            claims.append(",\"docs\":").append(docsJson);
        }
        claims.append(extraClaims).append('}');
        String signingInput = b64(header.getBytes(StandardCharsets.UTF_8)) + "." + b64(claims.toString().getBytes(StandardCharsets.UTF_8));
        try {
            Signature rsa = Signature.getInstance("SHA256withRSA");
            rsa.initSign(privateKey(keyResource));
            rsa.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + b64(rsa.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static PrivateKey privateKey(String resource) throws Exception {
        try (InputStream in = TestTokens.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing " + resource);
            }
            String pem = new String(in.readAllBytes(), StandardCharsets.US_ASCII)
                    .replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        }
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
