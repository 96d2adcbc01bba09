package dev.fleet.migration.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A TCP relay on 127.0.0.1 in front of the test sshd that counts every byte the client sends
 * (so a test can prove how much crossed the wire in total), and can cut a connection once a
 * given number of bytes has passed: it stops relaying and hands the relay's server-side local
 * port to a callback that kills the sshd process serving that connection.
 */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final AtomicLong clientToServer = new AtomicLong();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile long cutAfter = Long.MAX_VALUE;
    private volatile IntConsumer onCut = port -> {};
    private volatile boolean cut;

    CuttingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    long bytesFromClient() {
        return clientToServer.get();
    }

    boolean wasCut() {
        return cut;
    }

    /** Cuts the connection that carries the byte number {@code totalBytes} (counted over all connections). */
    void cutAfter(long totalBytes, IntConsumer killServerSide) {
        this.onCut = killServerSide;
        this.cutAfter = totalBytes;
    }

    void noMoreCuts() {
        this.cutAfter = Long.MAX_VALUE;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                open.add(client);
                open.add(upstream);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean counted) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    if (counted) {
                        long before = clientToServer.get();
                        long allowed = cutAfter - before;
                        if (allowed <= 0 || n > allowed) {
                            int pass = (int) Math.max(0, allowed);
                            out.write(buf, 0, pass);
                            out.flush();
                            clientToServer.addAndGet(pass);
                            cut = true;
                            cutAfter = Long.MAX_VALUE;
                            onCut.accept(to.getLocalPort());
                            break;
                        }
                        clientToServer.addAndGet(n);
                    }
                    out.write(buf, 0, n);
                }
            } catch (IOException ignored) {
                // the other side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        open.forEach(CuttingProxy::closeQuietly);
    }
}
