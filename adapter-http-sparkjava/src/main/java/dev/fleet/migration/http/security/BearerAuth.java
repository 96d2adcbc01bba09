package dev.fleet.migration.http.security;

import dev.fleet.migration.http.problem.RequestException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checks {@code Authorization: Bearer <token>} against the one role a server accepts. Tokens
 * are compared as SHA-256 digests with {@link MessageDigest#isEqual} (constant time, and the
 * digest hides the length). A token that belongs to another known role is answered 403 (it is
 * a valid credential, for something else); anything else 401.
 */
public final class BearerAuth {
    private final String role;
    private final byte[] accepted;
    private final Map<String, byte[]> others = new LinkedHashMap<>();

    /**
     * @param role     who the accepted token belongs to ("operator", "control plane"), for messages
     * @param accepted the token this server accepts
     * @param others   tokens of other roles (by role name) that must be told 403, not 401
     */
    public BearerAuth(String role, String accepted, Map<String, String> others) {
        this.role = Objects.requireNonNull(role, "role");
        if (accepted == null || accepted.length() < 16) {
            throw new IllegalArgumentException("the " + role + " token must be at least 16 characters long");
        }
        this.accepted = digest(accepted);
        others.forEach((r, t) -> {
            if (t != null && !t.isEmpty()) {
                this.others.put(r, digest(t));
            }
        });
    }

    /** @throws RequestException 401 or 403 */
    public void check(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw RequestException.unauthorized("missing bearer token: send 'Authorization: Bearer <" + role
                    + " token>'");
        }
        String h = authorizationHeader.strip();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw RequestException.unauthorized("the Authorization header must use the Bearer scheme with the "
                    + role + " token");
        }
        byte[] presented = digest(h.substring(7).strip());
        if (MessageDigest.isEqual(presented, accepted)) {
            return;
        }
        for (Map.Entry<String, byte[]> e : others.entrySet()) {
            if (MessageDigest.isEqual(presented, e.getValue())) {
                throw RequestException.forbidden("this is the " + e.getKey() + " token; this API accepts only the "
                        + role + " token");
            }
        }
        throw RequestException.unauthorized("wrong bearer token: this API accepts only the " + role + " token");
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
