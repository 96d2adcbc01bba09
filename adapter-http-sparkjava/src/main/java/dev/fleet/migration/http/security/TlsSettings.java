package dev.fleet.migration.http.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS from keystore files (PKCS12 or JKS). A server uses the keystore for its certificate and,
 * when {@code clientAuth} is set, the truststore to verify clients (mutual TLS). A client uses
 * the truststore to verify servers and the keystore, when given, as its client certificate.
 *
 * @param keystore           the keystore with this side's key and certificate (empty for a client
 *                           without a certificate)
 * @param keystorePassword   its password
 * @param truststore         the certificates this side trusts (empty: the JVM's default)
 * @param truststorePassword its password
 * @param clientAuth         servers only: require a client certificate from the truststore
 */
public record TlsSettings(Optional<Path> keystore, String keystorePassword, Optional<Path> truststore,
                          String truststorePassword, boolean clientAuth) {
    public TlsSettings {
        Objects.requireNonNull(keystore, "keystore");
        Objects.requireNonNull(truststore, "truststore");
        keystorePassword = keystorePassword == null ? "" : keystorePassword;
        truststorePassword = truststorePassword == null ? "" : truststorePassword;
        if (clientAuth && truststore.isEmpty()) {
            throw new IllegalArgumentException("clientAuth needs a truststore to verify client certificates");
        }
    }

    /** An {@link SSLContext} for a client. */
    public SSLContext clientContext() {
        try {
            KeyManagerFactory kmf = null;
            if (keystore.isPresent()) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(load(keystore.get(), keystorePassword), keystorePassword.toCharArray());
            }
            TrustManagerFactory tmf = null;
            if (truststore.isPresent()) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(truststore.get(), truststorePassword));
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot set up TLS from " + keystore.orElse(null) + " / "
                    + truststore.orElse(null) + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Path file, String password) throws GeneralSecurityException, IOException {
        String type = file.toString().endsWith(".jks") ? "JKS" : "PKCS12";
        KeyStore ks = KeyStore.getInstance(type);
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password.toCharArray());
        }
        return ks;
    }
}
