package dev.fleet.migration.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * A line chart drawn with java.awt (headless), written as PNG: a few series of (x, y) points
 * on linear axes that start at zero, with ticks, labels and a legend. Enough for "time against
 * size" beside a baseline; no dependency beyond the JDK.
 */
public final class Plot {
    /** One line of the chart. */
    public record Series(String name, List<double[]> points, Color color, boolean dashed) {
        public Series {
            Objects.requireNonNull(name, "name");
            points = List.copyOf(points);
        }
    }

    private static final int WIDTH = 960;
    private static final int HEIGHT = 600;
    private static final int LEFT = 90;
    private static final int RIGHT = 40;
    private static final int TOP = 60;
    private static final int BOTTOM = 80;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();

    public Plot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public Plot add(Series s) {
        series.add(s);
        return this;
    }

    /** Draws the chart; the image is returned for tests and written by {@link #write}. */
    public BufferedImage render() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        double maxX = 0;
        double maxY = 0;
        for (Series s : series) {
            for (double[] p : s.points()) {
                maxX = Math.max(maxX, p[0]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        double xStep = niceStep(maxX);
        double yStep = niceStep(maxY);
        double xMax = Math.max(xStep, Math.ceil(maxX / xStep) * xStep);
        double yMax = Math.max(yStep, Math.ceil(maxY / yStep) * yStep);

        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int plotW = WIDTH - LEFT - RIGHT;
            int plotH = HEIGHT - TOP - BOTTOM;

            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.setColor(Color.BLACK);
            centred(g, title, LEFT + plotW / 2, 32);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            for (double x = 0; x <= xMax + 1e-9; x += xStep) {
                int px = LEFT + (int) Math.round(x / xMax * plotW);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(px, TOP, px, TOP + plotH);
                g.setColor(Color.DARK_GRAY);
                centred(g, label(x), px, TOP + plotH + 20);
            }
            for (double y = 0; y <= yMax + 1e-9; y += yStep) {
                int py = TOP + plotH - (int) Math.round(y / yMax * plotH);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(LEFT, py, LEFT + plotW, py);
                g.setColor(Color.DARK_GRAY);
                String l = label(y);
                g.drawString(l, LEFT - 10 - g.getFontMetrics().stringWidth(l), py + 5);
            }
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, plotW, plotH);
            centred(g, xLabel, LEFT + plotW / 2, HEIGHT - 30);
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.rotate(-Math.PI / 2);
            centred(rotated, yLabel, -(TOP + plotH / 2), 28);
            rotated.dispose();

            int legendY = TOP + 20;
            for (Series s : series) {
                g.setColor(s.color());
                g.setStroke(s.dashed()
                        ? new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {8f, 6f}, 0f)
                        : new BasicStroke(2.5f));
                int[] xs = new int[s.points().size()];
                int[] ys = new int[s.points().size()];
                for (int i = 0; i < xs.length; i++) {
                    double[] p = s.points().get(i);
                    xs[i] = LEFT + (int) Math.round(p[0] / xMax * plotW);
                    ys[i] = TOP + plotH - (int) Math.round(p[1] / yMax * plotH);
                }
                g.drawPolyline(xs, ys, xs.length);
                g.setStroke(new BasicStroke(1.5f));
                for (int i = 0; i < xs.length; i++) {
                    g.fillOval(xs[i] - 4, ys[i] - 4, 8, 8);
                }
                g.drawLine(LEFT + 20, legendY, LEFT + 50, legendY);
                g.setColor(Color.BLACK);
                g.drawString(s.name(), LEFT + 58, legendY + 5);
                legendY += 22;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    public void write(Path png) throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        if (!ImageIO.write(render(), "png", png.toFile())) {
            throw new IOException("no PNG writer in this JDK");
        }
    }

    /** 1, 2 or 5 times a power of ten, giving four to ten ticks. */
    static double niceStep(double max) {
        if (max <= 0) {
            return 1;
        }
        double raw = max / 6;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * magnitude >= raw) {
                return m * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String label(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }

    private static void centred(Graphics2D g, String text, int x, int y) {
        FontMetrics fm = g.getFontMetrics();
        g.drawString(text, x - fm.stringWidth(text) / 2, y);
    }
}
